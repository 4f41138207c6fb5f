"""thinkpipe completion SHELL: tab completion for thinkpipe and every standalone command."""
from __future__ import annotations

from enum import Enum

import typer

from .runner import guard

EXAMPLES = """\
thinkpipe completion bash > ~/.local/share/bash-completion/completions/thinkpipe
thinkpipe completion zsh > "${fpath[1]}/_thinkpipe"
thinkpipe completion fish > ~/.config/fish/completions/thinkpipe.fish
eval "$(thinkpipe completion bash)"
"""


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(shell: Shell = typer.Argument(..., help="bash, zsh or fish.")) -> None:
    """Print a completion script for SHELL (named explicitly: detecting it fails in containers).

    The script covers `thinkpipe` and each standalone executable (synth-draw, grpo, ...).
    """
    with guard("completion"):
        # typer answers completion requests itself (the _PROG_COMPLETE variable); only the shell
        # script comes from a private helper. tests/cli/test_completion.py runs a real request,
        # so a typer upgrade that moves it fails there.
        from typer._completion_shared import get_completion_script

        from .main import STANDALONE

        for prog in ["thinkpipe", *STANDALONE]:
            var = "_" + prog.replace("-", "_").upper() + "_COMPLETE"
            print(get_completion_script(prog_name=prog, complete_var=var, shell=shell.value))
