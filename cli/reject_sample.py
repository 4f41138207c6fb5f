"""reject-sample: sample, score and filter trajectories (tools/reject_sample)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import (Config, frame_options, EmbedMedia, Format, Inputs, Limit, MediaDir, OnError, Output,
                      ProgressEvery, Quiet, Seed, Shard, Verbose)
from .runner import guard, records, usage_errors

SAMPLING, FILTER = "Sampling (with --model)", "Filtering"
MaxFrames, Fps = frame_options(SAMPLING)

EXAMPLES = """\
synth-draw --task maze --count 200 | reject-sample --model ckpt/cold --tools draw --num-samples 8 --require correct,format,reflection > rrs.jsonl
reject-sample --require correct --keep best samples.jsonl --rejected rejected.jsonl > kept.jsonl
reject-sample --model ckpt/sft --num-samples 4 --temperature 0.8 --require correct,format gsm8k.jsonl -o kept.parquet
torchrun --nproc_per_node 8 $(which reject-sample) --model ckpt/cold --tools draw tasks.jsonl -o rrs.jsonl
"""


class Tools(str, Enum):
    none = "none"
    draw = "draw"


def reject_sample(
    inputs: Inputs = None,
    model: Annotated[Optional[str], typer.Option("--model", metavar="PATH", rich_help_panel=SAMPLING,
                                                 help="Sample with this model; without it, records' "
                                                      "`responses` are filtered.")] = None,
    num_samples: Annotated[int, typer.Option("--num-samples", min=1, rich_help_panel=SAMPLING,
                                             help="Trajectories per record.")] = 4,
    tools: Annotated[Tools, typer.Option("--tools", rich_help_panel=SAMPLING,
                                         help="draw: the multi-turn drawing loop (VILASR).")] = Tools.none,
    max_turns: Annotated[int, typer.Option("--max-turns", min=1, rich_help_panel=SAMPLING)] = 10,
    max_images: Annotated[int, typer.Option("--max-images", min=1, rich_help_panel=SAMPLING)] = 42,
    max_turn_tokens: Annotated[int, typer.Option("--max-turn-tokens", min=1, rich_help_panel=SAMPLING,
                                                 help="Tokens per assistant turn.")] = 1024,
    max_total_tokens: Annotated[int, typer.Option("--max-total-tokens", min=1,
                                                  rich_help_panel=SAMPLING)] = 8192,
    max_frames: MaxFrames = 16,
    fps: Fps = 2.0,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, rich_help_panel=SAMPLING)] = 1.0,
    top_p: Annotated[float, typer.Option("--top-p", min=0.0, max=1.0, rich_help_panel=SAMPLING)] = 1.0,
    top_k: Annotated[int, typer.Option("--top-k", min=0, rich_help_panel=SAMPLING)] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, rich_help_panel=SAMPLING,
                                            help="Trajectories per generation batch.")] = 16,
    system: Annotated[Optional[str], typer.Option("--system", rich_help_panel=SAMPLING,
                                                  help="System prompt (default with --tools draw: "
                                                       "the drawing instructions).")] = None,
    reward: Annotated[Optional[list[str]], typer.Option(
        "--reward", metavar="SPEC", rich_help_panel=FILTER,
        help="Reward components to record (repeatable): a built-in name, module:function or "
             "an http(s) URL. Default: accuracy.")] = None,
    require: Annotated[str, typer.Option(
        "--require", metavar="correct,format,reflection,min-turns=N,min-reward=X",
        rich_help_panel=FILTER, help="What an accepted sample must satisfy.")] = "correct",
    keep: Annotated[str, typer.Option("--keep", metavar="all|first|best|N", rich_help_panel=FILTER,
                                      help="Which accepted samples of a record to keep.")] = "all",
    max_per_record: Annotated[Optional[int], typer.Option("--max-per-record", min=1,
                                                          rich_help_panel=FILTER)] = None,
    rejected: Annotated[Optional[str], typer.Option(
        "--rejected", metavar="FILE", rich_help_panel=FILTER,
        help="Write every rejected sample here, with the reasons.")] = None,
    output: Output = None,
    fmt: Format = None,
    on_error: OnError = "fail",
    shard: Shard = None,
    limit: Limit = None,
    embed_media: EmbedMedia = False,
    media_dir: MediaDir = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
    local_rank: Annotated[Optional[int], typer.Option("--local_rank", "--local-rank", hidden=True)] = None,
) -> None:
    """Sample trajectories from a model (or take the responses records already carry), score
    them, and keep those that are correct, well formatted and reflective: VILASR's reflective
    rejection sampling.

    One record per accepted sample goes to the output (the source record's fields, the whole
    conversation in `messages`, the sample's seed, status, format, reflection and reward
    components); with --rejected, one record per rejected sample with `rejected_for`, so
    accepted + rejected = sampled. A summary of acceptance rates goes to stderr.
    """
    with guard("reject-sample", verbose, quiet, progress_every):
        from thinkpipe.core.drawing.rollout import RolloutConfig
        from thinkpipe.tools.reject_sample import RejectConfig, Requirement
        from thinkpipe.tools.reject_sample.runner import run

        with usage_errors():
            cfg = RejectConfig(
                model=model, num_samples=num_samples, rewards=tuple(reward or ("accuracy",)),
                require=Requirement.parse(require), keep=keep, max_per_record=max_per_record,
                system=system, max_frames=max_frames, fps=fps, seed=seed, output=output,
                fmt=fmt.value if fmt else None, rejected=rejected, media_dir=media_dir,
                embed_media=embed_media,
                rollout=RolloutConfig(tools=None if tools is Tools.none else tools.value,
                                      max_turns=max_turns, max_images=max_images,
                                      max_turn_tokens=max_turn_tokens,
                                      max_total_tokens=max_total_tokens, temperature=temperature,
                                      top_p=top_p, top_k=top_k, batch_size=batch_size))
        with records(inputs, on_error, shard, limit) as stream:
            run(stream.items, cfg, stream.policy, local_rank)
