"""What grpo trains on: sampled tokens only; prompts and drawing observations are context."""
from PIL import Image

from thinkpipe.core.drawing.rollout import RolloutConfig, Trajectory, prompt_for, rollout
from thinkpipe.core.models import load
from thinkpipe.tools.grpo.batch import Completion, encode


def masked_text(bundle, tokens):
    runs, cur = [], []
    for tok, lab in zip(tokens["input_ids"], tokens["labels"]):
        if lab != -100:
            cur.append(tok)
        elif cur:
            runs.append(bundle.tokenizer.decode(cur))
            cur = []
    if cur:
        runs.append(bundle.tokenizer.decode(cur))
    return runs


def test_single_turn_scores_the_sampled_ids_exactly(tiny_models):
    bundle = load(tiny_models["llama"])
    prompt = prompt_for({"question": "Reply with the letter A."})
    traj, = rollout(bundle, [prompt], RolloutConfig(max_turn_tokens=12, temperature=1.0), [7])
    c = Completion("p", 0, 0, traj, len(prompt))
    encode(c, bundle, 4096, {})
    n = len(traj.turn_ids[0])
    assert c.tokens["labels"][-n:] == traj.turn_ids[0] == c.tokens["input_ids"][-n:]
    assert all(x == -100 for x in c.tokens["labels"][:-n])


def test_drawing_observations_are_masked(tiny_models):
    bundle = load(tiny_models["qwen2-vl"])
    img = Image.new("RGB", (64, 64), "white")
    draw = ('<think>mark</think> Action: Object Mapper\n```json\n[{"index": 1, "bbox_2d": [1, 1, 9, 9], '
            '"label": "x"}]\n```')
    messages = [{"role": "user", "content": [{"type": "image", "image": img},
                                             {"type": "text", "text": "where?"}]},
                {"role": "assistant", "content": draw},
                {"role": "user", "content": [{"type": "image", "image": img},
                                             {"type": "text", "text": "The index of the given image is 2."}]},
                {"role": "assistant", "content": "<think>ok</think> Action: Answer\n<answer>A</answer>"}]
    traj = Trajectory(messages, seed=1, turns=2, turn_ids=[[1], [2]])
    c = Completion("p", 0, 0, traj, prompt_len=1)
    encode(c, bundle, 4096)
    assert masked_text(bundle, c.tokens) == [draw + "<|im_end|>\n",
                                             "<think>ok</think> Action: Answer\n<answer>A</answer><|im_end|>\n"]
    assert c.tokens["image_grid_thw"].shape[0] == 2


def test_forward_from_the_first_scored_position_equals_full_logits(tiny_models):
    """logits_to_keep leaves the per-token log-probs and entropies as full logits give them."""
    import torch

    from thinkpipe.tools.grpo.batch import forward, pad_collate, selective_logprobs
    bundle = load(tiny_models["llama"])
    comps = []
    for i, q in enumerate(["Reply with A.", "Reply with the letter B, please, and nothing else."]):
        prompt = prompt_for({"question": q})
        traj, = rollout(bundle, [prompt], RolloutConfig(max_turn_tokens=6 + 3 * i, temperature=1.0), [i])
        comps.append(Completion("p", 0, i, traj, len(prompt)))
        encode(comps[-1], bundle, 4096, {})
    pad = bundle.tokenizer.pad_token_id or 0
    with torch.no_grad():
        logp, mask, ent = forward(bundle.model, comps, pad, "cpu", entropy=True)
        batch = pad_collate([c.tokens for c in comps], pad)
        full = bundle.model(**{k: v for k, v in batch.items() if k != "labels"}).logits[:, :-1].float()
        want = selective_logprobs(full, batch["input_ids"][:, 1:])
        want_ent = -(full.softmax(-1) * full.log_softmax(-1)).sum(-1) * mask
    assert mask.shape == logp.shape == want.shape and mask.sum() > 0
    assert torch.allclose(logp * mask, want * mask, atol=1e-5)
    assert torch.allclose(ent, want_ent, atol=1e-5)
