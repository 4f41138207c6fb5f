import os
import signal

import pytest

from thinkpipe.core.errors import OutputError
from thinkpipe.core.train.files import atomic, uninterrupted


def test_atomic_leaves_the_old_file_and_no_temporary_when_the_write_fails(tmp_path):
    path = tmp_path / "model.pt"
    path.write_text("old")

    def fails(tmp):
        open(tmp, "w").write("half")
        raise OSError(28, "No space left on device")
    with pytest.raises(OutputError, match="No space left"):
        atomic(str(path), fails)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["model.pt"]


def test_a_ctrl_c_inside_uninterrupted_waits_for_the_block_to_end():
    before = signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a shell
    try:
        done = []
        with pytest.raises(KeyboardInterrupt):
            with uninterrupted():
                os.kill(os.getpid(), signal.SIGINT)
                done.append("checkpoint")
                done.append("row")
        assert done == ["checkpoint", "row"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


def test_uninterrupted_without_a_ctrl_c_raises_nothing():
    before = signal.getsignal(signal.SIGINT)
    with uninterrupted():
        pass
    assert signal.getsignal(signal.SIGINT) is before


def test_an_ignored_ctrl_c_stays_ignored():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)     # a job started under nohup
    try:
        with uninterrupted():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
