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
