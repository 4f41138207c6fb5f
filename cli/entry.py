"""Console-script entry points: a quiet Ctrl-C even while the command is still importing.

Python turns Ctrl-C during imports into a traceback. Until a command's body starts (imports,
option parsing, --help), SIGINT exits 130 with one line; cli/runner.py's guard() then restores
Python's handler and maps KeyboardInterrupt itself (trainers install their own).
"""
import os
import signal
import sys


def _interrupted_while_starting(signum, frame):
    sys.stderr.write(f"{os.path.basename(sys.argv[0])}: interrupted\n")
    os._exit(130)


def _start(name: str | None) -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from . import main as app
    if name is None:
        app.main()
    else:
        app.run_standalone(name)


def main() -> None: _start(None)
def synth_draw() -> None: _start("synth-draw")
def reject_sample() -> None: _start("reject-sample")
def sft() -> None: _start("sft")
def grpo() -> None: _start("grpo")
def distill_kpod() -> None: _start("distill-kpod")
def distill_plankd() -> None: _start("distill-plankd")
def pudnet_predict() -> None: _start("pudnet-predict")
def freekd() -> None: _start("freekd")
def fira_pretrain() -> None: _start("fira-pretrain")
