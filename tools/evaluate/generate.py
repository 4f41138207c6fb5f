"""`thinkpipe eval --model`: generate the prediction of every record, then score only that.

The prompt comes from the record under `--prompt-template` (prompts.py): its question with its
options and media, or its `messages` before the first assistant turn. Whatever prediction the
input carried (`response`, assistant turns such as synth-draw's gold trace) is never scored: the
generated `response` is, and scoring reads `response` first; a stored one is reported once.

    local model (a folder)   batched through core/models; --tools draw runs the drawing loop
    served model (a URL)     an OpenAI-compatible endpoint (core/models/served.py), --concurrency
                             requests at a time, in input order

Every output record says what produced its answer: `model`, `model_fingerprint`,
`prompt_template`, `generation` (the decoding settings) and `repeat`. With --repeats N each
record is asked N times, sample k seeded by (--seed, record id, k); outputs do not depend on
--batch-size, --shard or neighbouring records. Predictions are cached (cache.py): with --reuse
(the default) a cached one is used instead of generating, so re-scoring and resuming a killed
run cost nothing. A record whose prompt cannot be built (no question, an unreadable image,
images for a text-only model) is a bad record under --on-error, with its file:line.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from thinkpipe.core.plugins import is_url
from thinkpipe.core.records.ids import record_id, sample_seed
from thinkpipe.core.records.jsonl import dumps

from . import prompts

log = logging.getLogger("thinkpipe.eval")


def is_served(model: str) -> bool:
    return is_url(model)


class LocalPredictor:
    """A model folder: batched generation, or the drawing loop with tools="draw"."""

    def __init__(self, config):
        from thinkpipe.core.models import load
        from thinkpipe.core.models.loading import fingerprint
        self.config, self.bundle = config, load(config.model)
        self.fingerprint = fingerprint(config.model)

    def check(self, messages: list[dict]):
        """Render the prompt (opening its images): a ValueError/OSError makes a bad record."""
        from thinkpipe.core.models import render
        return render(self.bundle, messages)

    def predict(self, batch: list[tuple[list[dict], object, int | None]]) -> list[dict]:
        """(messages, rendered, seed) -> {response, finish_reason[, turns]} in order."""
        cfg = self.config
        if cfg.tools == "draw":
            from thinkpipe.core.drawing.rollout import RolloutConfig, rollout
            rc = RolloutConfig(tools="draw", max_turns=cfg.max_turns,
                               max_turn_tokens=cfg.max_new_tokens,
                               max_total_tokens=cfg.max_new_tokens * cfg.max_turns,
                               temperature=cfg.temperature, top_p=cfg.top_p,
                               batch_size=cfg.batch_size)
            trajs = rollout(self.bundle, [m for m, _, _ in batch], rc, [s or 0 for *_, s in batch])
            return [{"response": t.response, "finish_reason": t.reason, "num_turns": t.turns,
                     "turns": [m["content"] for m in t.messages if m["role"] == "assistant"]}
                    for t in trajs]
        from thinkpipe.core.models import generate_rendered
        seeds = [s for *_, s in batch] if cfg.temperature > 0 else None
        outs = generate_rendered(self.bundle, [r for _, r, _ in batch], cfg.sampling(), seeds)
        return [{"response": o.text, "finish_reason": o.finish_reason} for o in outs]


class ServedPredictor:
    """An OpenAI-compatible endpoint, `concurrency` requests at a time."""

    def __init__(self, config):
        import hashlib

        from thinkpipe.core.models.served import ChatEndpoint
        self.config = config
        self.endpoint = ChatEndpoint(config.model, config.model_name, config.timeout,
                                     config.retries)
        self.fingerprint = "served-" + hashlib.sha256(
            f"{self.endpoint.url}\0{config.model_name}".encode()).hexdigest()[:16]

    def check(self, messages: list[dict]):
        from thinkpipe.core.models.served import wire_messages
        return wire_messages(messages)           # opens the images: a bad record fails here

    def predict(self, batch: list[tuple[list[dict], object, int | None]]) -> list[dict]:
        sampling = self.config.sampling()

        def one(item):
            reply = self.endpoint.complete(item[0], sampling, item[2])
            return {"response": reply.text, "finish_reason": reply.finish_reason}
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            return list(pool.map(one, batch))


def predictor(config):
    return ServedPredictor(config) if is_served(config.model) else LocalPredictor(config)


def _provenance(config, fp: str, repeat: int) -> dict:
    return {"model": config.model if not config.model_name else
            f"{config.model}#{config.model_name}", "model_fingerprint": fp,
            "prompt_template": config.template, "generation": config.generation(),
            "repeat": repeat}


def with_predictions(items: Iterator[tuple[str, dict]], config,
                     policy) -> Iterator[tuple[str, dict]]:
    """(where, record) with `response`, `finish_reason` and the provenance fields set, each
    record --repeats times."""
    from .cache import PredictionCache
    model = predictor(config)
    cache = PredictionCache(config.cache, model.fingerprint) if config.cache else None
    todo: list = []
    stored = 0

    def flush():
        preds = model.predict([(m, r, s) for *_, m, r, s, _ in todo]) if todo else []
        for (where, record, *_, key), pred in zip(todo, preds):
            if cache is not None:
                cache.put(key, pred)
            yield where, {**record, **pred}
        todo.clear()

    try:
        for where, record in items:
            if _stored(record):
                stored += 1
                if stored == 1:
                    log.warning("%s: the record carries a prediction (`response` or assistant "
                                "turns); --model generates a new one and scores only that", where)
            try:
                messages = prompts.build(record, config.template, config.system, config.max_frames,
                                          config.fps)
                rendered = model.check(messages)
            except (ValueError, OSError) as e:
                policy.handle(where, f"cannot build the prompt: {e}", dumps(record))
                continue
            rid = record_id(record)
            for k in range(config.repeats):
                out = {**record, **_provenance(config, model.fingerprint, k)}
                key = cache.key(rid, config.template, config.generation(), k) if cache else None
                hit = cache.get(key) if cache is not None and config.reuse else None
                if hit is not None:
                    yield from flush()                  # keep the input order
                    yield where, {**out, **hit}
                    continue
                seed = sample_seed(config.seed, rid, k) if config.temperature > 0 else None
                todo.append((where, out, messages, rendered, seed, key))
                if len(todo) >= config.batch_size:
                    yield from flush()
        yield from flush()
    finally:
        if cache is not None:
            cache.close()
            if cache.hits:
                log.info("%d prediction(s) from the cache %s", cache.hits, cache.path)
    if stored > 1:
        log.warning("%d records carried a stored prediction; none of them was scored", stored)


def _stored(record: dict) -> bool:
    from thinkpipe.core.rewards import assistant_turns
    return bool(assistant_turns(record))
