"""A small tmpfs mounted for a test: a real file system that fills up (the kernel's own ENOSPC).

    with mounted(tmp_path / "disk", "1m") as disk: ...

Skips the test where mounting is not permitted (not root, no CAP_SYS_ADMIN); CI's container runs
as root. Unmounted lazily after: a writer that failed (torch.save's zip writer) may hold its file
open until it is collected.
"""
import subprocess
from contextlib import contextmanager

import pytest


@contextmanager
def mounted(path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip() or p.returncode}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
