"""`make demo`'s fast variant (DEMO_FAST=1) runs as written: VILASR's stages on a tiny VLM, eval
of every checkpoint, one table and one report; what it prints must mean what it says."""
import json
import os
import subprocess

import pytest

from .conftest import BIN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _scored(path):
    return [json.loads(x) for x in open(path)]


@pytest.mark.slow
def test_fast_demo_runs_every_vilasr_stage_and_reports_honest_numbers(tmp_path):
    out = tmp_path / "demo"
    env = {**os.environ, "DEMO_FAST": "1", "DEMO_OUT": str(out),
           "PATH": BIN + os.pathsep + os.environ["PATH"]}
    p = subprocess.run(["bash", os.path.join(ROOT, "pipelines", "demo.sh")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    stages = [line.split("\t")[0] for line in (out / "times.tsv").read_text().splitlines()]
    assert [s.split(".")[0] for s in stages] == ["1", "2", "3", "4", "5", "7"]
    assert (out / "report.html").stat().st_size > 2000 and "demo done in" in p.stdout
    for model in ("base", "cold", "rrs", "rl"):
        assert f"vilasr/{model} · trained" in p.stdout and f"vilasr/{model} · held-out" in p.stdout
    base, cold = _scored(out / "vilasr" / "scored-base.jsonl"), _scored(out / "vilasr" / "scored-cold.jsonl")
    # a random model is asked, not the gold traces its input carries: no format, no accuracy
    assert all(r["format"] == 0.0 and r["status"] != "correct" for r in base)
    assert all(r["model"].endswith("vilasr/base") for r in base)
    # the cold start memorised the shape of its training traces
    trained = [r for r in cold if r["split"] == "trained"]
    assert sum(r["format"] for r in trained) / len(trained) >= 0.5
