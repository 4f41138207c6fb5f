"""A full disk: every command that writes exits 73 with one line on stderr and no traceback, leaves
no temporary file beside its output, keeps the previous output, and never replaces a device node
(`-o /dev/full`, stdout redirected to /dev/full, a file on a small full tmpfs)."""
import json
import os
import stat
import subprocess

import pytest

from ..conftest import BIN, CACHE
from ..tmpfs import mounted

ENV = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1",
       "XDG_CACHE_HOME": CACHE}
RECORDS = [{"id": str(i), "question": "How many?", "answer": "3", "step": i, "loss": 1 / (i + 1),
            "response": "<think>count</think><answer>3</answer>",
            "responses": ["<think>count</think><answer>3</answer>"]} for i in range(400)]
DATA = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
PUDNET = ["pudnet-predict", "train", "--data", "digits", "--image-size", "16", "--shots", "5",
          "--queries", "10", "--log-every", "1", "--eval-every", "100", "--eval-tasks", "2",
          "--episodes", "2"]

# (argv, the ways its output is sent to /dev/full); IN is a records file, OUT the output path.
# Trainers (sft, grpo, distill-kpod, fira-pretrain) write metrics to stdout through
# core/train/metrics.py: test_closed_pipe.py has them.
CASES = {
    "convert": (["thinkpipe", "convert", "IN"], "stdout,-o"),
    "convert-parquet": (["thinkpipe", "convert", "--format", "parquet", "IN"], "stdout,-o"),
    "convert-gzip": (["thinkpipe", "convert", "--format", "jsonl.gz", "IN"], "stdout,-o"),
    "synth-draw": (["synth-draw", "--task", "maze", "--count", "2", "--canvas", "224"], "stdout,-o"),
    "reject-sample": (["reject-sample", "--require", "correct", "IN"], "stdout,-o"),
    "eval": (["thinkpipe", "eval", "IN"], "stdout,-o"),
    "env": (["thinkpipe", "env"], "stdout"),
    "completion": (["thinkpipe", "completion", "bash"], "stdout"),
    "distill-kpod-make": (["distill-kpod", "--make", "4"], "-o"),
}
# Each of these spends ~10 s importing torch and building or training something: run together,
# two at a time (the same RecordWriter and guard as above; what they add is their own writes).
SLOW = {
    "init-model": (["thinkpipe", "init-model", "--arch", "llama", "--vocab-size", "300",
                    "--hidden-size", "16", "--layers", "1", "DIR"], "stdout"),
    "freekd": (["freekd", "--synthetic", "60", "--epochs", "2", "--log-every", "1"], "stdout"),
    "pudnet-predict-train": (PUDNET, "-o"),     # -o FILE: the hypernetwork checkpoint
    "distill-plankd-collect": (["distill-plankd", "collect", "--episodes", "1"], "-o"),
}


def _argv(argv, tmp_path, mode):
    (tmp_path / "in.jsonl").write_bytes(DATA)
    subs = {"IN": str(tmp_path / "in.jsonl"), "DIR": str(tmp_path / "d")}
    return [subs.get(a, a) for a in argv] + (["-o", "/dev/full"] if mode == "-o" else [])


def _run(argv, stdout, cwd=None):
    p = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       env=ENV, cwd=cwd, timeout=300)
    return p.returncode, p.stderr.decode(errors="replace")


def _to_dev_full(argv, tmp_path, mode):
    """(rc, stderr, what appeared in /dev) of argv with stdout or -o sent to /dev/full."""
    before = set(os.listdir("/dev"))
    with open("/dev/full", "wb") as full:
        rc, err = _run(_argv(argv, tmp_path, mode), full if mode == "stdout" else
                       subprocess.PIPE, cwd=tmp_path)
    return rc, err, set(os.listdir("/dev")) - before


def _says_73_in_one_line(rc, err, new_in_dev=(), tmp_path=None):
    lines = err.strip().splitlines()
    assert rc == 73 and len(lines) == 1, err[-2000:]
    assert "Traceback" not in err and "No space left on device" in lines[0], err
    assert not new_in_dev and stat.S_ISCHR(os.stat("/dev/full").st_mode)  # no temporary there
    if tmp_path is not None:                    # nor in the working directory
        assert {p.name for p in tmp_path.iterdir()} <= {"in.jsonl", "d"}


def _params(cases):
    return [pytest.param(name, mode, id=f"{name}{'' if mode == 'stdout' else '-o'}")
            for name, (_, modes) in cases.items() for mode in modes.split(",")]


@pytest.mark.parametrize("name,mode", _params(CASES))
def test_output_to_a_full_device_is_exit_73_in_one_line(name, mode, tmp_path):
    _says_73_in_one_line(*_to_dev_full(CASES[name][0], tmp_path, mode), tmp_path)


@pytest.fixture(scope="module")
def slow_results(tmp_path_factory):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        jobs = {(name, mode): pool.submit(_to_dev_full, argv, tmp_path_factory.mktemp(name), mode)
                for name, (argv, mode) in SLOW.items()}
    return {key: job.result() for key, job in jobs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name,mode", _params(SLOW))
def test_training_and_model_tools_on_a_full_device_are_exit_73(name, mode, slow_results):
    _says_73_in_one_line(*slow_results[name, mode])


@pytest.fixture
def full_fs(tmp_path):
    """A 64 KiB tmpfs."""
    with mounted(tmp_path / "fs", "64k") as root:
        yield root


def _fill(root, leave: int = 0):
    """Take the file system's free blocks (all but `leave` bytes) with a filler file."""
    vfs = os.statvfs(root)
    with open(root / "filler", "wb") as f:
        f.write(b"\0" * max(0, vfs.f_bavail * vfs.f_frsize - leave))


@pytest.mark.parametrize("fmt", ["out.jsonl", "out.parquet", "out.jsonl.gz"])
def test_a_record_file_that_fills_the_disk_is_exit_73_and_the_old_file_stays(fmt, full_fs, tmp_path):
    noisy = [{**r, "noise": os.urandom(48).hex()} for r in RECORDS]   # no codec shrinks it
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in noisy))
    old = full_fs / fmt
    old.write_bytes(b"previous\n")
    _fill(full_fs, leave=8192)
    rc, err = _run(["thinkpipe", "convert", str(tmp_path / "in.jsonl"), "-o", str(old)],
                   subprocess.PIPE)
    _says_73_in_one_line(rc, err)
    assert sorted(p.name for p in full_fs.iterdir()) == sorted([fmt, "filler"])
    assert old.read_bytes() == b"previous\n"


@pytest.mark.parametrize("argv,out", [
    (["thinkpipe", "eval", "-q", "IN", "--report", "OUT"], "report.html"),
    (["thinkpipe", "plot", "IN", "--y", "loss", "-o", "OUT"], "curves.png"),
], ids=["eval-report", "plot"])
def test_a_report_or_a_picture_on_a_full_disk_is_exit_73(argv, out, full_fs, tmp_path):
    if argv[1] == "plot":
        pytest.importorskip("matplotlib")
    (tmp_path / "in.jsonl").write_bytes(DATA)
    (full_fs / out).write_bytes(b"previous")
    _fill(full_fs)
    argv = [{"IN": str(tmp_path / "in.jsonl"), "OUT": str(full_fs / out)}.get(a, a) for a in argv]
    rc, err = _run(argv, subprocess.PIPE)
    _says_73_in_one_line(rc, err)
    assert sorted(p.name for p in full_fs.iterdir()) == sorted([out, "filler"])
    assert (full_fs / out).read_bytes() == b"previous"


def test_a_single_file_output_to_a_device_is_written_in_place(tmp_path):
    """core.train.files.atomic (checkpoints of pudnet/plankd, plot pictures): a rename would put
    a regular file where the device node was (safetensors' own save does exactly that)."""
    import torch
    from safetensors.torch import save_file

    from thinkpipe.core.errors import OutputError
    from thinkpipe.core.train.files import atomic
    dev = tmp_path / "full"
    if subprocess.run(["mknod", "-m", "666", str(dev), "c", "1", "7"]).returncode:
        pytest.skip("cannot make a device node here")
    tensors = {"w": torch.zeros(1000)}
    for save in (lambda p: torch.save(tensors, p), lambda p: save_file(tensors, p)):
        with pytest.raises(OutputError, match="No space left on device"):
            atomic(str(dev), save)
        assert stat.S_ISCHR(os.stat(dev).st_mode) and os.listdir(tmp_path) == ["full"]
    atomic(os.devnull, lambda p: save_file(tensors, p))
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
