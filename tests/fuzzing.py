"""What the fuzz tests (issue 22) share: hypothesis settings with a fixed seed and no example
database, and hypothesis's files kept out of the repository.

    from tests.fuzzing import fuzz
    @fuzz(300)
    @given(...)

Even with database=None, hypothesis caches the constants it finds in the code under test in
`.hypothesis/constants/` (at collection, before any fixture runs), so importing this module points
hypothesis's folder at a temporary one for the session, unless HYPOTHESIS_STORAGE_DIRECTORY
names one already.
"""
import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    _HOME = tempfile.mkdtemp(prefix="thinkpipe-hypothesis-")
    atexit.register(shutil.rmtree, _HOME, True)
    set_hypothesis_home_dir(_HOME)


def fuzz(max_examples: int) -> settings:
    """Bounded, derandomized settings: the same examples on every run and machine."""
    return settings(derandomize=True, database=None, deadline=None, max_examples=max_examples,
                    suppress_health_check=[HealthCheck.too_slow])
