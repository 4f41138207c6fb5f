"""Peak memory of the streaming tools at 100 MB and 1 GB of JSONL (bench/RESULTS.md, "memory").

`thinkpipe eval` (no model: the records carry responses) and `reject-sample` (no model: records
carry `responses`) read, score and write one record at a time, so their peak resident set must
not grow with the input. Each run is a child process; its peak RSS is the kernel's ru_maxrss
from wait4 (what `/usr/bin/time -v` prints). Input is generated under bench/data (about 1.1 GB
on disk at the largest size; removed with --clean).

    python bench/memory.py                  # 100 MB and 1 GB, writes the RESULTS.md section
    python bench/memory.py --sizes 10,100   # MB, a quick look
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, machine, write_section  # noqa: E402

FORMS = ["<think>{t}</think><answer>{a}</answer>", "{t} The answer is ({a}).", "<answer>{a}</answer>"]


def generate(path: str, megabytes: int) -> int:
    """Records with a gold letter and two sampled responses until the file holds `megabytes`."""
    rng, n, size, limit = random.Random(0), 0, 0, megabytes * 10**6
    with open(path, "w") as f:
        while size < limit:
            think = " ".join(rng.choice(["look", "at", "the", "red", "box", "first"]) for _ in range(60))
            responses = [rng.choice(FORMS).format(t=think, a=rng.choice("ABCD")) for _ in range(2)]
            rec = {"id": str(n), "question": f"Which colour is box {n}?", "answer": rng.choice("ABCD"),
                   "options": ["red", "blue", "green", "gray"], "response": responses[0],
                   "responses": responses}
            line = json.dumps(rec) + "\n"
            f.write(line)
            size, n = size + len(line), n + 1
    return n


def peak(cmd: list[str], src: str) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of cmd reading src, its records going to /dev/null."""
    start = time.perf_counter()
    with open(src, "rb") as stdin, open(os.devnull, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed on {src}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000", help="input sizes in MB, comma-separated")
    ap.add_argument("--clean", action="store_true", help="remove the generated inputs afterwards")
    args = ap.parse_args()
    binaries = os.path.dirname(sys.executable)
    tools = {"thinkpipe eval": [os.path.join(binaries, "thinkpipe"), "eval", "-q"],
             "reject-sample": [os.path.join(binaries, "reject-sample"), "-q"]}
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    rows, sizes = [], [int(s) for s in args.sizes.split(",")]
    for mb in sizes:
        src = os.path.join(HERE, "data", f"memory-{mb}mb.jsonl")
        n = generate(src, mb)
        for name, cmd in tools.items():
            rss, wall = peak(cmd, src)
            rows.append((name, mb, n, rss, wall))
            print(f"{name:16s} {mb:>6} MB {n:>9,} records  peak RSS {rss:7.1f} MiB  {wall:6.1f} s")
        if args.clean:
            os.unlink(src)
    table = ["| tool | input | records | peak RSS | wall |", "|---|---:|---:|---:|---:|"]
    table += [f"| {name} | {mb:,} MB | {n:,} | {rss:.0f} MiB | {wall:.0f} s |"
              for name, mb, n, rss, wall in rows]
    ratio = {name: rows[-len(tools) + i][3] / rows[i][3] for i, name in enumerate(tools)}
    text = "\n".join([
        "<!-- memory:start -->", "## Peak memory of the streaming tools (bench/memory.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        "Generated 4-option records, each with two sampled responses of about 400 characters, "
        "read from stdin and written to /dev/null; no model (eval scores `response`, "
        "reject-sample filters `responses`). Peak RSS is the child's ru_maxrss.", "", *table, "",
        "Peak RSS at the largest input over the smallest: " + ", ".join(
            f"{name} **{r:.2f}×**" for name, r in ratio.items())
        + f" for {sizes[-1] // sizes[0]}× the input: flat.", "<!-- memory:end -->"]) + "\n"
    write_section(text, "memory")
    print(text)


if __name__ == "__main__":
    main()
