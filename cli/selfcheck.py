"""python -m thinkpipe.cli.selfcheck: train a tiny model with the shared loop, as a launch check.

    python -m thinkpipe.cli.selfcheck --steps 8
    torchrun --nproc_per_node 2 -m thinkpipe.cli.selfcheck --zero 2
    deepspeed --num_gpus 2 --module thinkpipe.cli.selfcheck --zero 3

Metrics JSONL on stdout (rank 0); checkpoints and the final model under --output-dir. A module
rather than a command: launchers start it on every rank, and it exists to test the launch.
"""
from __future__ import annotations

import argparse
import sys

from .runner import guard


def parse(argv: list[str]):
    ap = argparse.ArgumentParser(prog="python -m thinkpipe.cli.selfcheck",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--output-dir", default="out/selfcheck")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--examples", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=32)
    ap.add_argument("--per-device-train-batch-size", type=int, default=4)
    ap.add_argument("--gradient-accumulation-steps", type=int, default=1)
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--lr-scheduler-type", default="cosine")
    ap.add_argument("--warmup-steps", type=int, default=0)
    ap.add_argument("--save-steps", type=int, default=0)
    ap.add_argument("--zero", type=int, choices=(0, 1, 2, 3))
    ap.add_argument("--deepspeed")
    ap.add_argument("--resume", nargs="?", const="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--step-sleep", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--local_rank", "--local-rank", type=int, help=argparse.SUPPRESS)
    return ap.parse_args(argv)



if __name__ == "__main__":
    options = parse(sys.argv[1:])
    with guard("selfcheck", quiet=False):
        from thinkpipe.core.train.selfcheck import run
        run(options)
