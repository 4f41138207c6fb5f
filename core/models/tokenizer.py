"""An offline byte-level BPE tokenizer with a ChatML template, trained on the fly.

Tiny models need a real tokenizer (tests exercise templating, padding, stop strings and
special tokens), but nothing may be downloaded. `train_tokenizer` trains a byte-level BPE with
the `tokenizers` library on a generated corpus of the text thinkpipe's tools produce — questions,
numbers, `<think>`/`<answer>` tags, VILASR drawing actions in JSON — and wraps it as a
`PreTrainedTokenizerFast` with Qwen's special tokens and a ChatML chat template that renders
image and video parts as Qwen-VL placeholders. Byte-level BPE encodes any text, so nothing is
ever out of vocabulary. Training is deterministic for a given vocabulary size.
"""
from __future__ import annotations

import itertools
import random
from typing import Iterator

# Qwen2/2.5-VL special tokens, in Qwen's order (ids follow the learned vocabulary here).
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
PAD, EOS = "<|endoftext|>", "<|im_end|>"

# ChatML, as Qwen2.5-VL renders it: a default system turn, image/video parts as placeholders.
CHATML_TEMPLATE = (
    "{% if messages and messages[0]['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in part %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_WORDS = (
    "the a an of to in on at by for with from and or not is are was be it this that which what "
    "how many much where when who why yes no left right up down above below near far closer "
    "farther between inside outside next behind front top bottom center middle corner edge "
    "red green blue yellow orange purple black white gray pink brown circle square triangle "
    "star box ball cube line point segment angle parallel perpendicular collinear distance "
    "maze path start goal wall cell grid move moves turn turns step steps reach reachable "
    "shortest route object objects shape shapes image picture scene count number answer "
    "question option options correct wrong first second third last next previous again "
    "draw drawing label bbox mark check let me think so therefore because first then finally "
    "wait actually mistake redraw revise looks like seems clearly compare measure longer "
    "shorter larger smaller equal same different total sum difference product solve value "
    "user assistant system you are helpful model reason reasoning step by step"
).split()


def corpus(n_lines: int = 6000, seed: int = 0) -> Iterator[str]:
    """Deterministic text in the shapes thinkpipe's tools produce."""
    rng = random.Random(seed)
    for i in range(n_lines):
        kind = i % 6
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 16)))
        if kind == 0:
            yield words.capitalize() + rng.choice(["?", ".", "!", ":"])
        elif kind == 1:
            yield f"<think>{words}.</think><answer>{rng.choice('ABCD')}</answer>"
        elif kind == 2:
            x1, y1 = rng.randint(0, 600), rng.randint(0, 600)
            yield (f'{{"index": {rng.randint(1, 4)}, "bbox_2d": [{x1}, {y1}, {x1 + rng.randint(5, 99)}, '
                   f'{y1 + rng.randint(5, 99)}], "label": "{rng.choice(_WORDS)}"}}')
        elif kind == 3:
            yield (f"Action: {rng.choice(['Object Mapper', 'Path Tracer', 'Answer'])}\n```json\n"
                   f'[{{"index": 1, "start_point_2d": [{rng.randint(0, 616)}, {rng.randint(0, 616)}], '
                   f'"end_point_2d": [{rng.randint(0, 616)}, {rng.randint(0, 616)}], '
                   f'"label": "path{rng.randint(1, 9)}"}}]\n```')
        elif kind == 4:
            a, b = rng.randint(0, 999), rng.randint(0, 999)
            yield f"{a} + {b} = {a + b}; {a} * {b} = {a * b}; {rng.random():.3f} {-a}"
        else:
            yield " ".join(rng.choice(["up", "down", "left", "right"]) for _ in range(rng.randint(2, 12)))


def train_tokenizer(vocab_size: int = 1024, seed: int = 0, texts: tuple[str, ...] = ()):
    """A PreTrainedTokenizerFast: byte-level BPE, Qwen special tokens, ChatML, left padding.
    `texts` join the generated corpus (init-model --tokenizer-corpus: a task's own words become
    whole tokens, as a real tokenizer's would)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(itertools.chain(corpus(seed=seed), texts), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD,
                                   padding_side="left", model_max_length=4096,
                                   clean_up_tokenization_spaces=False)
    fast.chat_template = CHATML_TEMPLATE
    return fast
