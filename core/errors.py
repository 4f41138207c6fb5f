"""The failures every tool reports the same way; the CLI maps each to its exit status.

    RecordError  a record that cannot be read or used (`file:line: what`)  -> 65 (EX_DATAERR)
    InputError   an input that cannot be opened                            -> 66 (EX_NOINPUT)
    OutputError  an output that cannot be created or written                -> 73 (EX_CANTCREAT)
    UsageError   options that contradict each other or the data             -> 2
    ServiceError a reward endpoint or judge that cannot be reached          -> 69 (EX_UNAVAILABLE)
    RunFailed    the tool ran on good input and options and could not finish -> 1
"""


class RecordError(Exception):
    """A record that cannot be read or used. `where` is `file:line` (or `file` alone); the
    message is kept to one line (Arrow's and parsers' own messages may span several)."""

    def __init__(self, where: str, message: str):
        message = " ".join(line.strip() for line in str(message).strip().splitlines())
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


class InputError(Exception):
    """An input that cannot be opened at all (missing file, a directory, no permission)."""


class OutputError(Exception):
    """An output that cannot be created or written."""


class UsageError(Exception):
    """Options that cannot work together, found after parsing (a bad --shard, a missing model)."""


class ServiceError(Exception):
    """A remote service (reward endpoint, judge, served model) that cannot be reached or answers
    nonsense, after its retries (core/backoff.py): exit 69, the message naming the endpoint."""


class RunFailed(Exception):
    """The run itself failed: good input and options, but it could not go on (DAPO's dynamic
    sampling found no group with differing rewards in its rounds, a diverged loss)."""
