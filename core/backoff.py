"""Waiting between the tries of a remote call: reward endpoints, judges and served models.

    time.sleep(delay(attempt))          # after try `attempt` (0-based) failed, before the next
    except TRANSIENT: ...               # what a failed HTTP exchange can raise

The wait grows exponentially with "equal jitter" (the AWS Architecture Blog's name, 2015):
with ceiling d = min(cap, base * 2**attempt), the wait is d/2 plus a uniform draw from [0, d/2].
Waits still double (0.25-0.5 s, 0.5-1 s, 1-2 s, ... with base 0.5 and cap 8), but clients that
failed together, such as a batch's concurrent reward calls, do not come back in lock step. The
draws come from a generator of this module's own, so retries never move the `random` state a
seeded run depends on.
"""
from __future__ import annotations

import http.client
import random
import urllib.error

_RNG = random.Random()

# a refused or reset connection, a timeout, an HTTP error status (HTTPError is a URLError), a
# body cut short (IncompleteRead) or a status line that never came (an HTTPException)
TRANSIENT = (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException)


def delay(attempt: int, base: float = 0.5, cap: float = 8.0,
          rng: random.Random | None = None) -> float:
    """Seconds to wait after the 0-based try `attempt` failed: d/2 + U(0, d/2), where
    d = min(cap, base * 2**attempt); 0 when base is 0."""
    ceiling = min(cap, base * 2 ** attempt)
    return ceiling / 2 + (rng or _RNG).uniform(0.0, ceiling / 2)
