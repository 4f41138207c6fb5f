"""Writing a trainer's single-file outputs so that a kill never leaves half a file."""
from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from thinkpipe.core.errors import OutputError


def atomic(path: str, write: Callable[[str], None]) -> None:
    """write(a temporary name beside path), then rename it to path; OutputError naming path
    (and no temporary left) when the disk refuses."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as e:   # torch.save reports a full disk as RuntimeError
        if os.path.exists(tmp):
            os.remove(tmp)
        reason = e.strerror if isinstance(e, OSError) else str(e).split("\n")[0]
        raise OutputError(f"{path}: cannot write: {reason}") from None


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
