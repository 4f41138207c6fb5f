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

Full disks and closed pipes. A write the file system refuses (ENOSPC, EDQUOT, EFBIG, EROFS:
`-o /dev/full`, `> /dev/full`) is exit 73 with one line; a file output is written under a
temporary name that is removed, so the previous file stays (core/records/writer.py,
core/train/files.py). A closed stdout (BrokenPipeError) ends a data tool with exit 0 and no
message, stdout pointed at /dev/null so the exit's flush stays quiet. A trainer's metrics on
stdout are the exception (core/train/metrics.py): a closed pipe drops them with one warning and
training, checkpoints and trackers go on (exit 0); a full device is exit 73 at the first
logged step.

A command's body is options -> config -> tool, and the runner owns the rest:

    with guard("eval", verbose, quiet, progress_every):     # logging, progress, exit statuses
        with usage_errors():                                 # a config's ValueError is exit 2
            cfg = EvalConfig(...)
        with records(inputs, on_error, shard, limit) as stream:
            run(stream.items, cfg, stream.policy)            # (where, record) pairs

`records` opens the inputs under the error policy, shards and limits them, counts what was read
(the progress display shows it), and on the way out, however the body ends, closes the policy
and says how many bad records were skipped or quarantined.
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


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a live progress display redirects it, so
    log lines print above the display instead of through it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(command: str, verbose: int = 0, quiet: bool = False) -> None:
    """thinkpipe's loggers write to stderr: warnings and summaries by default, -v adds detail."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = _Stderr()
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
def guard(command: str, verbose: int = 0, quiet: bool = False,
          progress_every: float = 30.0) -> Iterator[None]:
    """Set up logging and the progress display, run the body, and turn whatever escapes into a
    message and an exit status."""
    setup_logging(command, verbose, quiet)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # entry.py's quiet one until now
    except ValueError:  # not the main thread (an embedding application): leave it
        pass
    try:
        from thinkpipe.core.progress import using

        from .progress import display
        with using(display(command, quiet, progress_every)):
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


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """A configuration's ValueError (contradicting options, a bad value) is a usage error."""
    try:
        yield
    except ValueError as e:
        raise UsageError(str(e)) from None


class Records:
    """The inputs of a command as `(where, record)` pairs, and the policy bad ones go to."""

    def __init__(self, policy, items, reader=None, spec=None, limit=None):
        self.policy, self.items, self.reader = policy, items, reader
        self._spec, self._limit = spec, limit

    @property
    def records(self):
        """The records alone (for tools that need no `where`)."""
        return (record for _, record in self.items)

    def lines(self):
        """Each JSONL record's line as read (sharded, limited, counted): for copying unchanged."""
        from thinkpipe.core.records import apply
        return _counted(apply(self.reader.lines(), self._spec, self._limit))

    @property
    def where(self) -> str:
        return self.reader.where if self.reader is not None else ""


def _counted(items):
    from thinkpipe.core.progress import current
    progress = current()
    progress.begin("records")
    for item in items:
        progress.advance()
        yield item


@contextlib.contextmanager
def records(inputs, on_error: str = "fail", shard: str | None = None, limit: int | None = None,
            source=None) -> Iterator[Records]:
    """Open the inputs (or `source(policy)`, an iterator of (where, record) of the command's own,
    such as a benchmark loader) under `--on-error`, shard and limit them, count them for the
    progress display; close the policy and report what it skipped however the body ends."""
    from thinkpipe.core.records import ErrorPolicy, apply, parse_shard, read_records

    with usage_errors():
        policy = ErrorPolicy.parse(on_error)
        spec = parse_shard(shard)
    reader = None
    if source is None:
        reader = read_records(inputs, policy)
        items = ((reader.where, r) for r in reader)
    else:
        items = source(policy)
    try:
        yield Records(policy, _counted(apply(items, spec, limit)), reader, spec, limit)
    finally:
        policy.close()
        if policy.skipped:
            log.warning("%d bad record(s) %s", policy.skipped,
                        "skipped" if policy.mode == "skip" else
                        f"quarantined to {policy.quarantine_path}")
