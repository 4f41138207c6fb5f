"""thinkpipe eval: score predictions with rules first, say what happened to every item.

Scoring the same predictions differently moves benchmark numbers by points (lmms-eval measured
50.67 vs 54.78 on MMMU-val from answer extraction alone). thinkpipe's scorer is rule-first and
explicit: each record gets `score`, `status` (correct, incorrect, unparseable, truncated,
judge_failed, unscorable), `extracted` and `extract_method` (core/rewards); the summary gives
every group a 95% confidence interval and counts of each status, so an unparseable answer is
never mistaken for a wrong one and a judge failure is never counted as either.

    thinkpipe eval preds.jsonl --group-by task --report report.html > scored.jsonl
    thinkpipe eval --benchmark mme_reasoning MME_Reasoning_preds.tsv --compat official
    thinkpipe eval --model ckpt/rl bench.jsonl --baseline scored_base.jsonl

Departures from the official scripts (`--compat official` restores them, core/rewards/compat.py):
AV-Odyssey's parser reads "Answer: B" as A and defaults to A; VILASR's evaluation takes the first
character of the answer; Video-R1's numbers must agree on having a decimal point; MME-Reasoning
compares multi-select answers as case-sensitive strings and expressions structurally, and asks an
LLM to extract every answer — here rules extract first and a judge (`--judge`) is asked only when
they cannot. MRA uses exact fractions and <= (the evaluation scripts' rule; the paper says <).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterator

from thinkpipe.core.records.jsonl import dumps
from thinkpipe.core.rewards import COMPAT, Judge, NotScorable, prediction, score_record
from thinkpipe.core.rewards.bounds import window_fields

from .summary import Summary

log = logging.getLogger("thinkpipe.eval")


@dataclass(frozen=True)
class EvalConfig:
    """How `thinkpipe eval` scores, generates and reports.

    compat          strict (thinkpipe's rules) | official (the benchmark's own, quirks and all)
    benchmark       read the inputs as this benchmark's files and use its groups (loaders.py)
    group_by        also summarise per value of these fields (default: the benchmark's)
    macro           also report the unweighted mean of the per-value means of this field
    judge           asked when rules cannot read an answer: model folder | URL | module:function
    judge_model     the model name sent to a judge URL
    judge_cache     where judge verdicts are cached (default ~/.cache/thinkpipe/judge)
    model           generate every prediction with this model folder or endpoint URL
    model_name      the model name sent to an endpoint
    system          system prompt for the model
    template        prompt template (prompts.py): plain | think_answer | vilasr (default: plain,
                    vilasr with tools=draw)
    tools           None | "draw": the multi-turn drawing loop (a local model)
    max_turns       assistant turns of a drawing trajectory
    max_new_tokens  tokens per generated answer (per turn with tools)
    max_frames      frames a video is sampled to at most (core/records/video.py)
    fps             frames a second sampled from a video (fewer when max_frames caps them)
    temperature     0 decodes greedily; top_p: nucleus sampling
    batch_size      prompts per generation batch
    concurrency     requests in flight to an endpoint
    timeout         seconds an endpoint request may take; retries: tries per request
    repeats         samples per record (sample k seeded by seed, record id, k)
    cache           where predictions are cached (None: not cached)
    reuse           use a cached prediction instead of generating
    seed            with the record id, a sample's seed
    baseline        compare item by item with these scored (or scorable) records
    report          write the summary here: .md, .html or .json
    workers         processes scoring rules (blocks.py); 1 with a model or a judge
    scoring         (derived) the scoring mode in words, for the report
    """
    compat: str = "strict"
    benchmark: str | None = None
    group_by: tuple[str, ...] = ()
    macro: str | None = None
    judge: str | None = None
    judge_model: str | None = None
    judge_cache: str | None = None
    model: str | None = None
    model_name: str | None = None
    system: str | None = None
    template: str | None = None
    tools: str | None = None
    max_turns: int = 10
    max_new_tokens: int = 1024
    max_frames: int = 16
    fps: float = 2.0
    temperature: float = 0.0
    top_p: float = 1.0
    batch_size: int = 8
    concurrency: int = 4
    timeout: float = 120.0
    retries: int = 4
    repeats: int = 1
    cache: str | None = None
    reuse: bool = True
    seed: int = 0
    baseline: str | None = None
    report: str | None = None
    workers: int = 1
    scoring: str = field(init=False, default="")

    def __post_init__(self):
        from .loaders import DEFAULT_GROUPS
        from .report import report_kind
        if self.compat not in ("strict", "official"):
            raise ValueError("--compat is strict or official")
        if self.compat == "official" and self.benchmark not in COMPAT:
            raise ValueError(f"--compat official needs --benchmark, one of {', '.join(COMPAT)}")
        if self.report:
            report_kind(self.report)                       # .md, .html or .json, else refused
        if self.workers < 1:
            raise ValueError("--workers must be at least 1 (0 or auto: one per CPU)")
        if self.workers > 1 and (self.model or self.judge):
            raise ValueError("--workers parallelises rule scoring only: with --model or --judge "
                             "leave it at 1 (--concurrency sets requests in flight)")
        self._check_generation()
        if self.benchmark and not self.group_by and not self.macro:
            groups, macro = DEFAULT_GROUPS[self.benchmark]
            object.__setattr__(self, "group_by", groups)
            object.__setattr__(self, "macro", macro)
        text = (f"official rules of {self.benchmark}" if self.compat == "official" else
                "strict (thinkpipe rules" + (f", judge {self.judge}" if self.judge else "") + ")")
        object.__setattr__(self, "scoring", text)

    def _check_generation(self) -> None:
        from thinkpipe.core.plugins import is_url

        from .prompts import TEMPLATES
        if self.template is None:
            object.__setattr__(self, "template", "vilasr" if self.tools == "draw" else "plain")
        if self.template not in TEMPLATES:
            raise ValueError(f"--prompt-template must be one of {', '.join(TEMPLATES)}")
        if self.tools not in (None, "draw"):
            raise ValueError("--tools is none or draw")
        if self.tools == "draw" and is_url(self.model):
            raise ValueError("--tools draw runs the drawing loop on a local model folder, not an "
                             "endpoint")
        if self.repeats < 1 or self.concurrency < 1:
            raise ValueError("--repeats and --concurrency must be at least 1")
        if self.model_name and not is_url(self.model):
            raise ValueError("--model-name goes with a --model URL")

    def sampling(self):
        from thinkpipe.core.models import Sampling
        return Sampling(max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                        top_p=self.top_p)

    def generation(self) -> dict:
        """The decoding settings, as recorded with every prediction (and keyed in the cache)."""
        out = {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature,
               "top_p": self.top_p, "seed": self.seed, "system": self.system}
        if self.tools:
            out.update(tools=self.tools, max_turns=self.max_turns)
        if (self.max_frames, self.fps) != (16, 2.0):       # video sampling, when not the default
            out.update(max_frames=self.max_frames, fps=self.fps)
        return out

    def source(self, inputs):
        """The benchmark's reader for `records(source=...)`, or None for record files."""
        if not self.benchmark:
            return None
        from .loaders import load
        return lambda policy: load(self.benchmark, list(inputs or []), policy)


def make_scorer(config: EvalConfig) -> Callable[[dict], dict]:
    """record -> the fields scoring adds."""
    if config.compat == "official":
        official = COMPAT[config.benchmark]

        def score_official(record: dict) -> dict:
            if record.get("answer") is None:
                return score_record(record).fields()   # judge_failed: no gold answer
            score, extracted = official(record)
            return {"score": score, "status": "correct" if score >= 1 else "incorrect",
                    "extracted": extracted, "extract_method": f"official:{config.benchmark}",
                    "verifier": f"official:{config.benchmark}", **window_fields(prediction(record))}
        return score_official
    judge = Judge(config.judge, config.judge_model, config.judge_cache) if config.judge else None
    return lambda record: score_record(record, judge).fields()


def scored(record: dict, scorer: Callable[[dict], dict], policy, where) -> bool:
    """Add what scoring adds to `record` (and a drawing trajectory's rates, traces.py); False,
    with the record handed to the error policy as `where: why`, when it cannot be scored.
    `where` is the place or anything that spells it (blocks.Place), read only then."""
    try:
        record.update(scorer(record))
    except (NotScorable, ValueError) as e:
        policy.handle(str(where), str(e), dumps(record))
        return False
    if record.get("prompt_template") == "vilasr":
        from .traces import trace_fields
        record.update(trace_fields(record))
    return True


def evaluate(items: Iterator[tuple[str, dict]], config: EvalConfig, policy,
             summary: Summary) -> Iterator[dict]:
    """Score (where, record) pairs, one at a time; bad records go to the error policy as
    `where: why`. (Rule scoring of files runs in blocks instead: blocks.py.)"""
    scorer = make_scorer(config)
    if config.model:
        from .generate import with_predictions
        items = with_predictions(items, config, policy)
    for where, record in items:
        if scored(record, scorer, policy, where):
            summary.add(record)
            yield record


def baseline_scores(items: Iterator[tuple[str, dict]], config: EvalConfig,
                    policy) -> tuple[dict, int]:
    """(id -> score of a baseline run, how many of its items repeated an id); records already
    scored keep their score."""
    summary = Summary((), None, keep_ids=True)
    scorer = make_scorer(config)
    for where, record in items:
        if not ("score" in record and "status" in record):
            try:
                record.update(scorer(record))
            except (NotScorable, ValueError) as e:
                policy.handle(where, str(e), dumps(record))
                continue
        summary.add(record)
    return summary.by_id, summary.duplicate_ids


def run(items: Iterator[tuple[str, dict]], config: EvalConfig, policy, output: str | None = None,
        fmt: str | None = None, inputs=None, show: bool = True, files=None) -> list[dict]:
    """Score (and with a model, generate) every item, write the scored records to `output`
    (stdout), compare with the baseline, print the summary on stderr and write the report.
    `files` (a blocks.Files): score the inputs it names, read in blocks, in config.workers
    processes, instead of `items` (rule scoring). Returns the summary rows."""
    import sys

    from thinkpipe.core.records import RecordWriter, read_records

    from . import report as reports
    from .summary import compare
    by = config.group_by + (("repeat",) if config.repeats > 1 and "repeat" not in
                            config.group_by else ())
    summary = Summary(by, config.macro, keep_ids=bool(config.baseline))
    with RecordWriter(output, fmt, line_buffered=bool(config.model)) as out:
        if files is not None and not config.model:
            from .blocks import score_files
            score_files(files, config, by, policy, out, summary)
        elif config.workers > 1:
            raise ValueError("--workers scores files: give run() files= (blocks.Files)")
        else:
            out.write_many(evaluate(items, config, policy, summary))
    comparison = None
    if config.baseline:
        base = read_records([config.baseline], policy)
        theirs, repeated = baseline_scores(((base.where, r) for r in base),
                                           EvalConfig(compat=config.compat,
                                                      benchmark=config.benchmark), policy)
        comparison = compare(summary.by_id, theirs, summary.duplicate_ids, repeated)
        if summary.duplicate_ids or repeated:
            log.warning("ids repeat (%d here, %d in the baseline): each id's first item is "
                        "paired, the repeats are left out of the comparison",
                        summary.duplicate_ids, repeated)
    rows = summary.rows()
    if config.repeats > 1:
        rows.insert(1, repeats_row(rows, config.repeats))
    if show:
        print(reports.table_text(rows, comparison), file=sys.stderr)
    if config.report:
        reports.write(config.report, rows, comparison, report_meta(config, inputs, summary),
                      summary.worst, summary.curves)
    return rows


def report_meta(config: EvalConfig, inputs, summary) -> dict:
    """What the report says produced its numbers."""
    meta = {"inputs": list(inputs or ["<stdin>"]), "scoring": config.scoring}
    if config.model:
        meta.update(model=config.model, model_name=config.model_name,
                    model_fingerprint=summary.fingerprints or None,
                    prompt_template=config.template, generation=config.generation(),
                    repeats=config.repeats)
    elif summary.models:
        meta["models"] = sorted(summary.models)     # scored records name what produced them
    return {k: v for k, v in meta.items() if v is not None}


def repeats_row(rows: list[dict], repeats: int) -> dict:
    """Mean and sample std of the per-repeat overall scores, as a summary row."""
    import statistics
    means = [r["mean"] for r in rows if r["group"] == "repeat" and r["mean"] is not None]
    mean = statistics.fmean(means) if means else None
    std = statistics.stdev(means) if len(means) > 1 else 0.0
    label = f"mean of {repeats} repeats" + (f" (std {100 * std:.2f})" if means else "")
    return {"group": "overall", "label": label, "n": rows[0]["n"], "scored": len(means),
            "mean": mean, "std": std, "ci_low": None, "ci_high": None,
            "statuses": rows[0]["statuses"]}


def make_benchmark(name: str, n: int, media_dir: str, seed: int = 0, output: str | None = None,
                   fmt: str | None = None) -> None:
    """--make: generate a benchmark offline (DeafTest: deaftest.py) and write its records."""
    from thinkpipe.core.records import RecordWriter

    from thinkpipe.core.errors import OutputError

    from . import deaftest
    try:
        records = deaftest.make(n, media_dir, seed)
    except OSError as e:
        raise OutputError(f"--media-dir {media_dir}: {e.strerror or e}") from None
    with RecordWriter(output, fmt) as out:
        out.write_many(records)
    log.info("%d DeafTest items, their WAVs in %s", len(records), media_dir)


def dump(items: Iterator[tuple[str, dict]], output: str | None = None, fmt: str | None = None):
    """--dump-items: the benchmark's items as thinkpipe records, unscored."""
    from thinkpipe.core.records import RecordWriter
    with RecordWriter(output, fmt) as out:
        out.write_many(record for _, record in items)


__all__ = ["EvalConfig", "evaluate", "run", "dump", "make_scorer", "baseline_scores", "Summary"]
