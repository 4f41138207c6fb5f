"""core/parallel.py: results in input order, a bounded window of jobs read ahead, quiet stops."""
import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from thinkpipe.core.parallel import ordered_map

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def _slow_square(x: int) -> int:
    time.sleep(0.02 if x % 3 == 0 else 0.0)   # early jobs finish after later ones
    return x * x


def _fails_at_five(x: int) -> int:
    if x == 5:
        raise ValueError("five")
    return x


_offset = 0


def _set_offset(value: int) -> None:
    global _offset
    _offset = value


def _plus_offset(x: int) -> int:
    return x + _offset


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_back_in_input_order(workers):
    with ordered_map(_slow_square, range(40), workers) as out:
        assert list(out) == [x * x for x in range(40)]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_worker_runs_the_initializer(workers):
    with ordered_map(_plus_offset, range(10), workers, _set_offset, (100,)) as out:
        assert list(out) == list(range(100, 110))


def test_jobs_are_read_a_window_ahead_not_all_at_once():
    taken = []

    def jobs():
        for i in range(1000):
            taken.append(i)
            yield i
    with ordered_map(_slow_square, jobs(), workers=2, ahead=2) as out:
        first = next(out)
    assert first == 0
    assert len(taken) <= 2 * 2 + 1          # the window, plus the job that filled it


def test_an_error_in_a_worker_reaches_the_caller_and_no_worker_is_left():
    with pytest.raises(ValueError, match="five"):
        with ordered_map(_fails_at_five, range(20), 2) as out:
            got = [x for x in out]
    assert "got" not in locals()
    assert multiprocessing.active_children() == []


def test_leaving_early_stops_the_workers():
    with ordered_map(_slow_square, range(10_000), 2) as out:
        for x in out:
            if x > 100:
                break
    assert multiprocessing.active_children() == []


def test_forked_workers_never_repeat_the_parents_unwritten_output():
    # a print still in the parent's buffer when the pool forks must come out once, not once
    # more per worker as it exits
    code = ("import sys; sys.path.insert(0, sys.argv[1]); print('before', end='');"
            "from tests.core.test_parallel import _slow_square;"
            "from thinkpipe.core.parallel import ordered_map\n"
            "with ordered_map(_slow_square, range(8), 2) as out: print(sum(out))")
    p = subprocess.run([sys.executable, "-c", code, ROOT], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "before140\n"
