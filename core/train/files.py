"""Writing a trainer's single-file outputs so that a kill never leaves half a file."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from thinkpipe.core.errors import OutputError


def atomic(path: str, write: Callable[[str], None]) -> None:
    """write(a temporary name beside path), then rename it to path; OutputError naming path
    (and no temporary left) when the disk refuses. A path that exists and is not a regular file
    (/dev/full, /dev/stdout, a named pipe) is copied into from a temporary file in $TMPDIR: a
    rename would replace the node, and torch and safetensors report a device's errors badly."""
    special = os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)
    if special:
        fd, tmp = tempfile.mkstemp(prefix="thinkpipe-", suffix="-" + os.path.basename(path))
        os.close(fd)
    else:
        tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        if special:
            with open(tmp, "rb") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            os.replace(tmp, path)
    except BaseException as e:
        # torch.save reports a full disk as RuntimeError, safetensors as SafetensorError
        known = isinstance(e, (OSError, RuntimeError)) or type(e).__name__ == "SafetensorError"
        reason = write_failure(e, os.path.dirname(os.path.abspath(tmp))) if known else ""
        if os.path.exists(tmp):
            os.remove(tmp)
        if not known:
            raise
        raise OutputError(f"{path}: cannot write: {reason}") from None
    finally:
        if special and os.path.exists(tmp):
            os.remove(tmp)


def write_failure(e: BaseException, folder: str) -> str:
    """The one-line reason a write into `folder` failed. torch.save and safetensors report a
    full disk without an errno (torch: "unexpected pos ..." from its zip writer), so a file
    system left with under 1 MiB free says what ENOSPC would."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    try:
        st = os.statvfs(folder)
        if st.f_bavail * st.f_frsize < 1 << 20:
            return os.strerror(errno.ENOSPC)
    except OSError:
        pass
    return str(e).strip().split("\n")[0]


def check_writable(path: str) -> None:
    """OutputError now, before hours of training, when path's folder cannot take a file."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"{path}: no such folder {folder}")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{path}: cannot write in {folder}")


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold a Ctrl-C until the block ends, so that a checkpoint and the metrics row that
    announces it are written together or not at all (main thread only; elsewhere a no-op).
    A held Ctrl-C then goes to the handler that was there before (Python's raises
    KeyboardInterrupt; an ignored SIGINT, as under nohup, stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(signal.SIGINT, None)
        elif caught and previous == signal.SIG_DFL:
            raise KeyboardInterrupt
