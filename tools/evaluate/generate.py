"""`thinkpipe eval --model`: generate the prediction of every record, then score only that.

The prompt is the record's question with its options and media, or its `messages` up to (not
including) the first assistant turn; whatever prediction the input already carried (`response`,
assistant turns such as synth-draw's gold trace) is never scored: the generated `response` is,
and scoring reads `response` first. Each record's sample seed comes from (--seed, record id,
sample 0), so outputs do not depend on --batch-size, --shard or neighbouring records. A record
whose prompt cannot be built (no question, an unreadable image, images for a text-only model) is
a bad record under --on-error, reported with its file:line.
"""
from __future__ import annotations

import logging
from typing import Iterator

from thinkpipe.core.records.ids import record_id, sample_seed
from thinkpipe.core.records.jsonl import dumps

log = logging.getLogger("thinkpipe.eval")


def _stored_prediction(record: dict) -> bool:
    from thinkpipe.core.rewards import assistant_turns
    return bool(assistant_turns(record))


def with_predictions(items: Iterator[tuple[str, dict]], config,
                     policy) -> Iterator[tuple[str, dict]]:
    """(where, record) with `response`, `finish_reason` and `model` set by config.model."""
    from thinkpipe.core.drawing.rollout import prompt_for
    from thinkpipe.core.models import Sampling, generate_rendered, load, render

    bundle = load(config.model)
    sampling = Sampling(max_new_tokens=config.max_new_tokens, temperature=config.temperature)
    batch: list[tuple[str, dict, tuple]] = []
    stored = 0

    def flush():
        seeds = [sample_seed(config.seed, record_id(r), 0) for _, r, _ in batch] \
            if config.temperature > 0 else None
        outs = generate_rendered(bundle, [p for _, _, p in batch], sampling, seeds)
        for (where, record, _), out in zip(batch, outs):
            record.update(response=out.text, finish_reason=out.finish_reason, model=config.model)
            yield where, record
        batch.clear()

    for where, record in items:
        try:
            rendered = render(bundle, prompt_for(record, config.system))
        except (ValueError, OSError) as e:
            policy.handle(where, f"cannot build the prompt: {e}", dumps(record))
            continue
        if _stored_prediction(record):
            stored += 1
            if stored == 1:
                log.warning("%s: the record carries a prediction (`response` or assistant turns); "
                            "--model generates a new one and scores only that", where)
        batch.append((where, record, rendered))
        if len(batch) >= config.batch_size:
            yield from flush()
    if batch:
        yield from flush()
    if stored > 1:
        log.warning("%d records carried a stored prediction; none of them was scored", stored)
