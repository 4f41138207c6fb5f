"""Every command is documented: a current man page that renders, a README section, a pipeline."""
import os
import shutil
import subprocess
import sys

import pytest

from thinkpipe.cli.main import ORDER, STANDALONE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_man_pages_are_current():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "man", "build.py"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
@pytest.mark.parametrize("page", ["thinkpipe.1", "thinkpipe-convert.1", "synth-draw.1"])
def test_man_pages_render(page):
    p = subprocess.run(["man", "-l", os.path.join(ROOT, "man", page)], capture_output=True,
                       text=True, env={**os.environ, "MANWIDTH": "80", "MANPAGER": "cat"})
    assert p.returncode == 0 and "NAME" in p.stdout and "EXIT STATUS" in p.stdout
    assert "warning" not in p.stderr


def test_readme_names_every_command_and_the_two_commands():
    readme = open(os.path.join(ROOT, "README.md")).read()
    assert "make test" in readme and "make demo" in readme
    for name in ORDER:
        shown = name if name in STANDALONE else f"thinkpipe {name}"
        assert f"`{shown}" in readme, f"README does not mention `{shown}`"
