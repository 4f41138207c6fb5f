"""thinkpipe eval: score predictions (tools/evaluate) and summarise them with intervals."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import (Config, frame_options, Format, Inputs, Limit, OnError, Output, ProgressEvery, Quiet, Seed,
                      Shard, Verbose)
from .runner import guard, records, usage_errors

SCORING, MODEL = "Scoring", "Generating (--model)"
MaxFrames, Fps = frame_options(MODEL)

EXAMPLES = """\
thinkpipe eval preds.jsonl > scored.jsonl
thinkpipe eval preds.jsonl --group-by task,question_type --report report.html -q > scored.jsonl
thinkpipe eval preds.jsonl --workers auto --group-by task -q -o scored.jsonl
thinkpipe eval --benchmark mme_reasoning MME_Reasoning_preds.tsv --compat official
thinkpipe eval --benchmark deaftest --make 400 --media-dir deaftest/ > deaftest.jsonl
thinkpipe eval --model http://127.0.0.1:8000/v1 --model-name qwen2.5-vl-7b bench.jsonl --concurrency 8
thinkpipe eval new.jsonl --baseline old_scored.jsonl --report diff.md > /dev/null
thinkpipe eval --model ckpt/rl bench.jsonl --max-new-tokens 512 --report report.html > scored.jsonl
thinkpipe eval preds.jsonl --judge http://localhost:8000/v1 --judge-model qwen2.5-7b-instruct
"""


MAN_SECTIONS = {"Models": """\
With --model every prediction is generated and only that is scored: the prompt is the record's
question with its options and media, or its messages before the first assistant turn; a stored
response or assistant turn (synth-draw's gold trace) is never scored, and stderr says so once.

FOLDER  a Hugging Face folder: Qwen2-VL and Qwen2.5-VL take images; Qwen2-Audio and the
        Qwen2.5-Omni thinker take audio (WAV, resampled to 16 kHz, at most 30 s; other formats:
        convert with ffmpeg); any other causal LM takes text. A record with media the model
        cannot take is a bad record (exit 65). --tools draw runs VILASR's drawing loop.
URL  an OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp server, TGI, hosted APIs),
        e.g. http://127.0.0.1:8000/v1 with --model-name. Images go as base64 data URLs, audio
        as input_audio parts; --concurrency requests in flight, each with --timeout, retried
        --retries times with back-off (0.5, 1, 2 ... 8 s) on connection errors, timeouts, 408,
        429, 5xx and replies that are not a chat completion; then exit 69. OPENAI_API_KEY is
        sent as the bearer token when set.
provenance  every output record has model, model_fingerprint (a hash of the weights and
        config, or of the URL and model name), prompt_template, generation (decoding settings)
        and repeat; the report names them too.
cache  predictions are cached per (model fingerprint, record id, template, decoding, repeat)
        under --cache (default ~/.cache/thinkpipe/eval): a rerun rescoring the same inputs
        generates nothing, and a killed run resumes where it stopped. --no-reuse regenerates.
repeats  --repeats N asks each record N times (sample k seeded by --seed, record id and k); the
        summary gives each repeat's score and their mean and standard deviation.
shards  run --shard K/N of the same inputs on several machines, each to its own file, then
        cat them into one `thinkpipe eval --report all.html` run: the records carry their
        responses, so they are scored, not regenerated, into one report.
""", "Benchmarks": """\
--benchmark reads the official files (TSV, JSON, JSONL or Parquet; - and _ alike in the name)
and uses the benchmark's groups. --compat official scores by the official code's rules.

mme-reasoning  the official TSV; --dump-items writes records keeping function_id,
        special_info, prompt_id, capability and reasoning_type. Items with a function_id are
        checked by its validator on the structured answer (the <answer> content or the last
        fenced json block, as JSON or a Python literal), accepting any valid solution; puzzles
        need no gold. Capability and reasoning-type breakdowns by substring, as the official
        aggregation. An item whose special_info cannot be read is unscorable, never a stopped
        run. Strict departures from function4eval.py (--compat official restores them):
        sudoku and skyscraper cells must be the integers 1..n; hashi forbids a bridge over an
        island and requires one connected group, reads columns case-insensitively, takes a
        double bridge written as two entries and a bridge of 0 as none; 24 points is exact
        (4/(1-5/6) passes); compare_expression accepts reorderings of sums and products at any
        depth, never just an equal value; calculate_answer_function_12 (CAT + DOG = PETS) needs
        distinct digits and non-zero leading letters; _8 can never be satisfied (as coded
        officially) and strict _11 neither (officially an extra key can bring its missing 1).
        Official mode runs function4eval.py's semantics: on 41,650 generated cases it agreed
        with the official code on 95%, 100% for hashi and the matching functions; what differs
        is listed in core/rewards (grids written as strings or tuples, × for *, formulas over
        200 characters).
av-odyssey  the official JSON; [img1], [audio1], [video1] in the question put each medium where
        it is named. Per-subfield accuracy. Official: its parser, which reads "Answer: B" as A.
deaftest  --make N --media-dir DIR generates it offline (16-bit 44.1 kHz WAVs of pure tones:
        loudness differences from 12 to 0.5 dB, pitch differences from an octave to 1 %,
        counting 2 to 9 bursts), each record with stimuli (level_dbfs, freq_hz, duration_s,
        count) and difficulty; the report plots accuracy against difficulty per task. The
        official parquet is read as AV-Odyssey rows.
vsibench  VSI-Bench rows; numeric answers by MRA, the macro average over question types.
vilasr  VILASR's result files; mazes and spatial tasks from synth-draw score as they are.
video-r1  Video-R1's evaluation files.
"""}


class Compat(str, Enum):
    strict = "strict"
    official = "official"


BENCHMARKS = ("mme_reasoning", "av_odyssey", "deaftest", "vsibench", "vilasr", "video_r1")


def _benchmark(value: Optional[str]) -> Optional[str]:
    """mme-reasoning and mme_reasoning alike."""
    if value is None:
        return None
    name = value.strip().lower().replace("-", "_")
    if name not in BENCHMARKS:
        raise typer.BadParameter(f"{value!r}: choose from {', '.join(BENCHMARKS)} (- or _)")
    return name


class Tools(str, Enum):
    none = "none"
    draw = "draw"


def _workers(value: Optional[str]) -> int:
    """N processes; 0 or auto: one per CPU."""
    import os
    text = (value or "1").strip().lower()
    if text in ("0", "auto"):
        return os.cpu_count() or 1
    if not text.isdigit():
        raise ValueError(f"--workers {value}: a number of processes, or auto (0): one per CPU")
    return int(text)


def _fields(value: Optional[str]) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def evaluate(
    inputs: Inputs = None,
    group_by: Annotated[Optional[str], typer.Option(
        "--group-by", metavar="FIELD,...", rich_help_panel=SCORING,
        help="Also summarise per value of these fields (a list value counts in each label).")] = None,
    macro: Annotated[Optional[str], typer.Option(
        "--macro", metavar="FIELD", rich_help_panel=SCORING,
        help="Also report the unweighted mean of the per-FIELD means (VSI-Bench's overall).")] = None,
    report: Annotated[Optional[str], typer.Option(
        "--report", metavar="PATH", rich_help_panel=SCORING,
        help="Write the summary to PATH: .md, .html (bar charts, works offline) or .json.")] = None,
    baseline: Annotated[Optional[str], typer.Option(
        "--baseline", metavar="FILE", rich_help_panel=SCORING,
        help="Compare item by item (by id) with these records: difference, 95% CI, McNemar p.")] = None,
    compat: Annotated[Compat, typer.Option(
        "--compat", rich_help_panel=SCORING,
        help="strict: thinkpipe's rules; official: the benchmark's own scoring, quirks and all "
             "(needs --benchmark).")] = Compat.strict,
    benchmark: Annotated[Optional[str], typer.Option(
        "--benchmark", metavar="|".join(BENCHMARKS), callback=_benchmark, rich_help_panel=SCORING,
        help="Read the inputs in this benchmark's official format and use its groups "
             "(mme-reasoning or mme_reasoning alike).")] = None,
    dump_items: Annotated[bool, typer.Option(
        "--dump-items", rich_help_panel=SCORING,
        help="With --benchmark: write the benchmark's items as thinkpipe records (their official "
             "fields kept) and stop, scoring nothing.")] = False,
    make: Annotated[Optional[int], typer.Option(
        "--make", metavar="N", min=1, rich_help_panel=SCORING,
        help="With --benchmark deaftest: generate N items (WAVs under --media-dir, records to "
             "stdout) and stop; reproducible from --seed.")] = None,
    media_dir: Annotated[Optional[str], typer.Option(
        "--media-dir", metavar="DIR", rich_help_panel=SCORING,
        help="Where --make writes its audio files.")] = None,
    judge: Annotated[Optional[str], typer.Option(
        "--judge", metavar="PATH|URL|MODULE:FN", rich_help_panel=SCORING,
        help="Ask this judge when rules cannot read an answer: a local model folder, an "
             "OpenAI-compatible URL or a Python function. Verdicts are cached.")] = None,
    judge_model: Annotated[Optional[str], typer.Option(
        "--judge-model", rich_help_panel=SCORING, help="Model name sent to a judge URL.")] = None,
    judge_cache: Annotated[Optional[str], typer.Option(
        "--judge-cache", metavar="DIR", rich_help_panel=SCORING,
        help="Where judge verdicts are cached (default ~/.cache/thinkpipe/judge).")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", metavar="PATH|URL", rich_help_panel=MODEL,
        help="Generate every record's prediction with this model folder, or an OpenAI-compatible "
             "endpoint URL (vLLM, SGLang, llama.cpp, TGI, hosted APIs), and score that (a "
             "stored `response` or assistant turn is never scored).")] = None,
    model_name: Annotated[Optional[str], typer.Option(
        "--model-name", rich_help_panel=MODEL, help="The model name sent to a --model URL.")] = None,
    system: Annotated[Optional[str], typer.Option("--system", rich_help_panel=MODEL,
                                                  help="System prompt for --model.")] = None,
    prompt_template: Annotated[Optional[str], typer.Option(
        "--prompt-template", metavar="plain|think_answer|vilasr", rich_help_panel=MODEL,
        help="How a record becomes a prompt (default plain; vilasr with --tools draw); "
             "recorded in every output record.")] = None,
    tools: Annotated[Tools, typer.Option("--tools", rich_help_panel=MODEL,
                                         help="draw: the multi-turn drawing loop (a local "
                                              "model).")] = Tools.none,
    max_turns: Annotated[int, typer.Option("--max-turns", min=1, rich_help_panel=MODEL)] = 10,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, rich_help_panel=MODEL,
                                                help="Per answer (per turn with --tools).")] = 1024,
    max_frames: MaxFrames = 16,
    fps: Fps = 2.0,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, rich_help_panel=MODEL,
                                               help="0 decodes greedily.")] = 0.0,
    top_p: Annotated[float, typer.Option("--top-p", min=0.0, max=1.0, rich_help_panel=MODEL)] = 1.0,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, rich_help_panel=MODEL)] = 8,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, rich_help_panel=MODEL,
                                             help="Requests in flight to a --model URL.")] = 4,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0, rich_help_panel=MODEL,
                                           help="Seconds per endpoint request.")] = 120.0,
    retries: Annotated[int, typer.Option("--retries", min=1, rich_help_panel=MODEL,
                                         help="Tries per endpoint request, with back-off.")] = 4,
    repeats: Annotated[int, typer.Option("--repeats", min=1, rich_help_panel=MODEL,
                                         help="Ask every record N times (different seeds); "
                                              "the summary adds mean ± std over repeats.")] = 1,
    cache: Annotated[Optional[str], typer.Option(
        "--cache", metavar="DIR", rich_help_panel=MODEL,
        help="Where predictions are cached (default ~/.cache/thinkpipe/eval).")] = None,
    reuse: Annotated[bool, typer.Option(
        "--reuse/--no-reuse", rich_help_panel=MODEL,
        help="Use a cached prediction instead of generating (re-scoring, resuming a killed "
             "run).")] = True,
    workers: Annotated[str, typer.Option(
        "--workers", metavar="N|auto", rich_help_panel=SCORING,
        help="Processes scoring rules (0 or auto: one per CPU); output order, bytes and summary "
             "do not change. Rule scoring only: with --model or --judge it must stay 1.")] = "1",
    output: Output = None,
    fmt: Format = None,
    on_error: OnError = "fail",
    shard: Shard = None,
    limit: Limit = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
) -> None:
    """Score predictions against gold answers with rule-first verifiers: every item gets a
    score, a status and what was extracted; a summary with 95% confidence intervals.

    Records carry a prediction (`response`, else the last assistant turn of `messages`;
    `prediction_from` says which) and a gold `answer`; the question type (`question_type`, else
    inferred) picks the verifier. Scored records go to stdout; the summary, per --group-by
    field, goes to stderr and --report. With --model every prediction is generated, seeded by
    (--seed, record id), and a stored one is never scored.

    Rules: a multiple-choice answer is a letter ((b), full-width letters), a list of letters (AC,
    A, C), or an option's text, and so is the gold; an answer naming several options is
    unparseable for a single-answer item and a set for multi-select. Numbers agree to 2 decimals
    in decimal arithmetic, half away from zero (0.125 ~ 0.13). OCR is 1 - WER on NFC-normalised
    words, case-sensitive. An output cut off (finish_reason length) before any answer marker is
    truncated; a prediction that cannot be read (1e999) is unparseable and stays in n.
    """
    with guard("eval", verbose, quiet, progress_every):
        from thinkpipe.core.records import resolve_format
        from thinkpipe.tools.evaluate import EvalConfig, dump, run
        from thinkpipe.tools.evaluate.cache import default_dir

        with usage_errors():
            cfg = EvalConfig(compat=compat.value, benchmark=benchmark, group_by=_fields(group_by),
                             macro=macro, judge=judge, judge_model=judge_model,
                             judge_cache=judge_cache, model=model, model_name=model_name,
                             system=system, template=prompt_template,
                             tools=None if tools is Tools.none else tools.value,
                             max_turns=max_turns, max_new_tokens=max_new_tokens,
                             max_frames=max_frames, fps=fps, temperature=temperature,
                             top_p=top_p, batch_size=batch_size, concurrency=concurrency,
                             timeout=timeout, retries=retries,
                             repeats=repeats, cache=cache or (default_dir() if model else None),
                             reuse=reuse, seed=seed, baseline=baseline, report=report,
                             workers=_workers(workers))
            if dump_items and not benchmark:
                raise ValueError("--dump-items writes a --benchmark's items: name the benchmark")
            if make is not None and (benchmark != "deaftest" or not media_dir or inputs):
                raise ValueError("--make N generates DeafTest: --benchmark deaftest --make N "
                                 "--media-dir DIR, with no input files")
        resolve_format(output, fmt.value if fmt else None)   # -o x.csv: refused before any work
        if make is not None:
            from thinkpipe.tools.evaluate import make_benchmark
            make_benchmark(benchmark, make, media_dir, seed, output, fmt.value if fmt else None)
            return
        with records(inputs, on_error, shard, limit, source=cfg.source(inputs)) as stream:
            if dump_items:
                dump(stream.items, output, fmt.value if fmt else None)
                return
            from thinkpipe.core.records import parse_shard
            from thinkpipe.tools.evaluate.blocks import Files
            files = Files(inputs, parse_shard(shard), limit, cfg.source(inputs))
            run(stream.items, cfg, stream.policy, output, fmt.value if fmt else None, inputs,
                show=not quiet, files=files)
