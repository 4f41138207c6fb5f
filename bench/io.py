"""Record-stream throughput: `thinkpipe convert` against a bare orjson loop, jq and pyarrow.

    python bench/io.py                      # 1 GB input, 3 runs each (about 10 minutes here)
    python bench/io.py --size-mb 100 --reps 1

Every method is a separate process reading the same file (in the page cache) and writing to the
same disk; wall time includes interpreter start and imports, as a user sees it. Peak RSS comes
from wait4(). The same commands on a file a tenth the size show whether memory grows with input.
Results replace the "io" section of bench/RESULTS.md, with the machine and date.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import machine, write_section  # noqa: E402
DATA = os.path.join(HERE, "data")
BIN = os.path.dirname(sys.executable)
WORDS = ("the a of red blue green ball box left right near far above below circle square maze "
         "path turn goal start line point closer parallel which how many").split()

BARE = """import sys, orjson
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    for line in f:
        out.write(orjson.dumps(orjson.loads(line)))
        out.write(b"\\n")
"""
NOOP = """import sys
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    for line in f:
        out.write(line)
"""
ARROW = """import sys, pyarrow.json as pj, pyarrow.parquet as pq
pq.write_table(pj.read_json(sys.argv[1]), sys.argv[2])
"""


def generate(path: str, size_mb: int) -> int:
    """Records like the shared I/O baselines (id, 60-char question, answer, nested meta)."""
    rng = random.Random(0)
    target, n = size_mb << 20, 0
    with open(path + ".tmp", "wb", buffering=1 << 20) as f:
        written = 0
        while written < target:
            q = " ".join(rng.choice(WORDS) for _ in range(14))[:59] + "?"
            line = ('{"id": %d, "question": "%s", "answer": "%s", "meta": {"k": [1, 2, 3]}}\n'
                    % (n, q, "ABCD"[n % 4])).encode()
            f.write(line)
            written += len(line)
            n += 1
    os.replace(path + ".tmp", path)
    return n


def count_lines(path: str) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))


def run_once(cmd: list[str], stdout_path: str | None = None) -> tuple[float, float, float]:
    """(wall s, cpu s, peak RSS MiB) of one process.

    RSS comes from GNU time when installed: the rusage of a child forked from this Python process
    would count the parent's pages from before exec.
    """
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    timer = shutil.which("time") and os.path.exists("/usr/bin/time")
    rss_file = os.path.join(DATA, "rss.txt")
    full = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *cmd] if timer else cmd
    start = time.perf_counter()
    p = subprocess.Popen(full, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if stdout_path:
        out.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed with {status}")
    rss = int(open(rss_file).read().split()[-1]) / 1024 if timer else usage.ru_maxrss / 1024
    return wall, usage.ru_utime + usage.ru_stime, rss


def methods(src: str, work: str) -> dict[str, tuple[list[str], str | None]]:
    py, tp = sys.executable, os.path.join(BIN, "thinkpipe")
    m = {
        "line copy (no parsing)": ([py, "-c", NOOP, src, f"{work}/noop.jsonl"], None),
        "bare orjson loop (loads+dumps)": ([py, "-c", BARE, src, f"{work}/bare.jsonl"], None),
        "thinkpipe convert -> jsonl": ([tp, "convert", src, "-o", f"{work}/tp.jsonl"], None),
        "thinkpipe convert --select (re-encode) -> jsonl": (
            [tp, "convert", src, "--select", "id,question,answer,meta", "-o", f"{work}/tps.jsonl"],
            None),
        "thinkpipe convert -> parquet": ([tp, "convert", src, "-o", f"{work}/tp.parquet"], None),
        "pyarrow read_json + write_table -> parquet": ([py, "-c", ARROW, src, f"{work}/pa.parquet"],
                                                        None),
    }
    if shutil.which("jq"):
        m["jq -c ."] = (["jq", "-c", ".", src], f"{work}/jq.jsonl")
    return m


def measure(src: str, work: str, reps: int) -> dict[str, dict]:
    results = {}
    for name, (cmd, stdout_path) in methods(src, work).items():
        runs = [run_once(cmd, stdout_path) for _ in range(reps)]
        results[name] = {"wall": statistics.median(r[0] for r in runs),
                         "cpu": statistics.median(r[1] for r in runs),
                         "rss": max(r[2] for r in runs), "walls": [r[0] for r in runs]}
        print(f"{name:50s} {results[name]['wall']:7.2f} s  {results[name]['rss']:7.1f} MiB",
              file=sys.stderr)
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
    return results


def report(big: dict, small: dict, n_big: int, n_small: int, size_mb: int, small_mb: int,
           reps: int, load: str) -> str:
    bare = big["bare orjson loop (loads+dumps)"]["wall"]
    rows = ["| method | median wall s | records/s | × bare loop | CPU s | peak RSS MiB "
            f"({size_mb} MB) | peak RSS MiB ({small_mb} MB) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in big.items():
        rows.append(f"| {name} | {r['wall']:.2f} | {n_big / r['wall']:,.0f} | "
                    f"{bare / r['wall']:.2f} | {r['cpu']:.2f} | {r['rss']:.1f} | "
                    f"{small[name]['rss']:.1f} |")
    tp, tpq = big["thinkpipe convert -> jsonl"], big["thinkpipe convert -> parquet"]
    lines = [
        "<!-- io:start -->",
        "## Record I/O: `thinkpipe convert` (bench/io.py)",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}. "
        f"Load average before the run: {load}.",
        f"Input: {size_mb} MB of generated JSONL, {n_big:,} records of ~{(size_mb << 20) // n_big} B "
        f"(id, question, answer, nested meta); {reps} runs per method, median wall time "
        "including interpreter start. RSS also measured on a "
        f"{small_mb} MB file ({n_small:,} records) to show whether memory grows with input.",
        "",
        *rows,
        "",
        f"- convert -> jsonl runs at **{bare / tp['wall']:.2f}× the bare orjson loop** "
        "(target ≥ 0.8×): it validates every line with orjson and copies unchanged records "
        "byte for byte instead of re-encoding them; `--select` shows the re-encoding path.",
    ]
    if "jq -c ." in big:
        lines.append(f"- against jq 1.6: {big['jq -c .']['wall'] / tp['wall']:.1f}× faster "
                     "(target: faster than jq).")
    lines += [
        f"- RSS: convert -> jsonl {small['thinkpipe convert -> jsonl']['rss']:.0f} MiB at "
        f"{small_mb} MB vs {tp['rss']:.0f} MiB at {size_mb} MB; -> parquet "
        f"{small['thinkpipe convert -> parquet']['rss']:.0f} vs {tpq['rss']:.0f} MiB "
        "(one spooled batch in memory). pyarrow's whole-table read grows with input.",
        "<!-- io:end -->",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--small-mb", type=int, default=0, help="default: a tenth of --size-mb")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    small_mb = args.small_mb or max(1, args.size_mb // 10)
    os.makedirs(DATA, exist_ok=True)
    work = os.path.join(DATA, "work")
    os.makedirs(work, exist_ok=True)
    sizes = {}
    for mb in (args.size_mb, small_mb):
        path = os.path.join(DATA, f"records-{mb}mb.jsonl")
        sizes[mb] = count_lines(path) if os.path.exists(path) else generate(path, mb)
    load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "n/a"
    big = measure(os.path.join(DATA, f"records-{args.size_mb}mb.jsonl"), work, args.reps)
    small = measure(os.path.join(DATA, f"records-{small_mb}mb.jsonl"), work, 1)
    text = report(big, small, sizes[args.size_mb], sizes[small_mb], args.size_mb, small_mb,
                  args.reps, load)
    write_section(text, "io")
    print(text)


if __name__ == "__main__":
    main()
