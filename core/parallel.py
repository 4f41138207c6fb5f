"""Mapping a function over jobs in worker processes, results in input order (--workers).

    with ordered_map(score_block, blocks(), workers=2, initializer=setup, initargs=(plan,)) as out:
        for result in out:          # the result of each job, in the order the jobs came
            ...

What the data tools need from a pool, and `Pool.imap` alone does not give:
  - order: each result comes back in the order its job was given, whatever finishes first;
  - flat memory: at most `ahead` jobs per worker are in flight (imap reads its whole input
    ahead of the workers), so a pipe of any length streams;
  - quiet stops: workers ignore Ctrl-C and are terminated when the `with` block ends however it
    ends (an interrupt, a closed stdout, an error), so the parent reports once, no traceback
    comes from a worker, and none is left behind;
  - no doubled output: a forked worker would flush the parent's unwritten stdout buffer when it
    exits; workers get /dev/null for stdout and stderr, and the parent flushes before forking.
With workers <= 1 the jobs run in this process, one after another, through the same interface.
Workers are forked on Linux (fast, nothing re-imported), spawned elsewhere: `fn`, the jobs and
the results must then pickle, as they must for any pool.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections import deque
from typing import Any, Callable, Iterable, Iterator

AHEAD = 2       # jobs in flight per worker: one running, one queued behind it


def _start_worker(initializer: Callable | None, initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # the parent handles Ctrl-C
    sys.stdout = sys.stderr = open(os.devnull, "w")     # never flush the parent's buffers
    if initializer is not None:
        initializer(*initargs)


def _in_order(pool, fn: Callable, jobs: Iterable, window: int) -> Iterator[Any]:
    pending: deque = deque()
    for job in jobs:
        pending.append(pool.apply_async(fn, (job,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


@contextlib.contextmanager
def ordered_map(fn: Callable, jobs: Iterable, workers: int, initializer: Callable | None = None,
                initargs: tuple = (), ahead: int = AHEAD) -> Iterator[Iterator[Any]]:
    """An iterator over fn(job) for each job, in order, computed by `workers` processes (in
    this one when workers <= 1); the pool is stopped when the block ends."""
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        yield map(fn, jobs)
        return
    import multiprocessing as mp
    context = mp.get_context("fork" if sys.platform == "linux" else None)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    pool = context.Pool(workers, _start_worker, (initializer, initargs))
    try:
        yield _in_order(pool, fn, jobs, workers * ahead)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
