"""Writing a trainer's single-file outputs so that a kill never leaves half a file."""
from __future__ import annotations

import os
from typing import Callable

from thinkpipe.core.errors import OutputError


def atomic(path: str, write: Callable[[str], None]) -> None:
    """write(a temporary name beside path), then rename it to path; OutputError naming path
    (and no temporary left) when the disk refuses."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise OutputError(f"{path}: cannot write: {e.strerror}") from None
