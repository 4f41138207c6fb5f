"""Running a command: logging to stderr, and every failure mapped to its exit status.

    0    success; also when the reader downstream closed the pipe (`| head`)
    1    the tool ran and failed (a stub not built yet, a training run that diverged)
    2    usage: an unknown option, a bad value, options that contradict each other
    65   a malformed record (EX_DATAERR), reported as `file:line: what is wrong`
    66   an input that cannot be opened (EX_NOINPUT)
    69   a reward endpoint or judge that cannot be reached (EX_UNAVAILABLE)
    70   an internal error, a bug in thinkpipe (EX_SOFTWARE); -v shows the traceback
    73   an output that cannot be written (EX_CANTCREAT)
    130  interrupted (Ctrl-C); trainers save a resumable checkpoint first
"""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import traceback
from typing import Iterator

from thinkpipe.core.errors import (InputError, OutputError, RecordError, RunFailed,
                                   ServiceError, UsageError)

EXIT_FAILURE, EXIT_USAGE, EXIT_DATAERR, EXIT_NOINPUT = 1, 2, 65, 66
EXIT_SOFTWARE, EXIT_CANTCREAT, EXIT_INTERRUPTED, EXIT_UNAVAILABLE = 70, 73, 130, 69

# errors only a write can raise: no space, a quota, a file too large, a read-only file system
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}

EXIT_FOR = ((RecordError, EXIT_DATAERR), (InputError, EXIT_NOINPUT),
            (OutputError, EXIT_CANTCREAT), (UsageError, EXIT_USAGE),
            (ServiceError, EXIT_UNAVAILABLE), (RunFailed, EXIT_FAILURE))

log = logging.getLogger("thinkpipe")


class _Format(logging.Formatter):
    def __init__(self, command: str):
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"{self.command}: error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"{self.command}: warning: {msg}"
        return f"{self.command}: {msg}"


def setup_logging(command: str, verbose: int = 0, quiet: bool = False) -> None:
    """thinkpipe's loggers write to stderr: warnings and summaries by default, -v adds detail."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format(command))
    root = logging.getLogger("thinkpipe")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _quiet_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the final flush cannot complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@contextlib.contextmanager
def guard(command: str, verbose: int = 0, quiet: bool = False) -> Iterator[None]:
    """Set up logging, run the body, and turn whatever escapes into a message and an exit status."""
    setup_logging(command, verbose, quiet)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # entry.py's quiet one until now
    except ValueError:  # not the main thread (an embedding application): leave it
        pass
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        raise SystemExit(0)
    except tuple(cls for cls, _ in EXIT_FOR) as e:
        log.error("%s", e)
        raise SystemExit(next(code for cls, code in EXIT_FOR if isinstance(e, cls)))
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED)
    except OSError as e:
        if e.errno not in WRITE_ERRNOS:
            _internal(e, verbose)
        # only a write fails this way: stdout on a full disk (`> /dev/full`), a quota
        log.error("cannot write %s: %s", e.filename or "the output", e.strerror or e)
        _quiet_stdout()
        raise SystemExit(EXIT_CANTCREAT)
    except Exception as e:  # a bug: say so in one line, the traceback with -v
        _internal(e, verbose)


def _internal(e: Exception, verbose: int):
    if verbose:
        traceback.print_exc()
    log.error("internal error: %s: %s%s", type(e).__name__, e,
              "" if verbose else " (run with -v for the traceback)")
    raise SystemExit(EXIT_SOFTWARE)
