"""A rule-based stand-in for SophiaVL-R1's 72B grader, so pipelines/sophiavl.mk runs offline.

    grpo ... --thinking-reward pipelines.data.sophiavl_judge:score      (with PYTHONPATH=.)

It scores the reasoning, not the answer: a <think> block that exists, is not empty, is not one
word repeated, and stays short earns more. Replace it with a served model for real data
(JUDGE=http://host:8000/v1 JUDGE_MODEL=Qwen2.5-VL-72B-Instruct in the Makefile).
"""


def score(record: dict, response: str) -> float:
    think = response.split("<think>", 1)[-1].split("</think>", 1)[0] if "<think>" in response else ""
    words = think.split()
    if not words:
        return 0.0
    variety = len(set(words)) / len(words)
    brevity = 1.0 if len(words) <= 64 else 64 / len(words)
    return round(0.2 + 0.8 * variety * brevity, 1)
