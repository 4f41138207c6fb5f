"""What the benchmarks share: a description of the machine, and writing their RESULTS.md section."""
from __future__ import annotations

import os
import platform

HERE = os.path.dirname(os.path.abspath(__file__))


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def write_section(text: str, key: str) -> None:
    """Replace the `<!-- key:start -->` ... `<!-- key:end -->` section of RESULTS.md (or append)."""
    path = os.path.join(HERE, "RESULTS.md")
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->\n"
    if start in old:
        head, rest = old.split(start, 1)
        old = head + rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(old.rstrip("\n") + "\n\n" + text)
