"""Shared test helpers: run the real executables as a user would, from the venv that runs pytest."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import pytest

BIN = os.path.dirname(sys.executable)
# judge verdicts and eval predictions are cached under XDG_CACHE_HOME: a fresh one per test
# session, so a run never reuses what an earlier run of the suite generated
CACHE = tempfile.mkdtemp(prefix="thinkpipe-test-cache-")


@dataclass
class Result:
    rc: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        return self.out.decode()

    @property
    def stderr(self) -> str:
        return self.err.decode(errors="replace")


def run(cmd: list[str], data: bytes = b"", cwd=None, env=None, timeout: int = 120) -> Result:
    """Run a thinkpipe executable with `data` on stdin."""
    full_env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
                "NO_COLOR": "1", "XDG_CACHE_HOME": CACHE, **(env or {})}
    p = subprocess.run(cmd, input=data, capture_output=True, cwd=cwd, env=full_env,
                       timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def cli():
    return run


@pytest.fixture
def server():
    """Start stub chat servers (tests/chat_server.py): server(reply) -> Server, closed after."""
    from .chat_server import Server
    made = []

    def start(reply):
        made.append(Server(reply))
        return made[-1]
    yield start
    for s in made:
        s.close()


@pytest.fixture
def flaky():
    """Start misbehaving servers (tests/flaky_server.py): flaky(body, script, **kw) ->
    FlakyServer, closed after."""
    from .flaky_server import FlakyServer
    made = []

    def start(body, script=("ok",), **kw):
        made.append(FlakyServer(body, script, **kw))
        return made[-1]
    yield start
    for s in made:
        s.close()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny qwen2-vl and llama folders, built once per test session."""
    from thinkpipe.core.models import build_tiny
    root = tmp_path_factory.mktemp("models")
    return {arch: build_tiny(arch, str(root / arch))["path"] for arch in ("qwen2-vl", "llama")}


@pytest.fixture(scope="session")
def red_png(tmp_path_factory):
    from PIL import Image
    path = tmp_path_factory.mktemp("img") / "red.png"
    Image.new("RGB", (120, 90), (220, 20, 20)).save(path)
    return str(path)


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` need a CUDA device: on a machine without one they are skipped."""
    if not any("gpu" in item.keywords for item in items):
        return
    import torch
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
