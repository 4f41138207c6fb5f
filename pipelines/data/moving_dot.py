"""Frame-order questions for T-GRPO recipes: a dot moving left or right, as a small MP4 per item.

    python3 pipelines/data/moving_dot.py N DIR > items.jsonl     # N items, videos in DIR

Reversed, the frames tell the opposite story, so an answer that does not use their order is
right half the time: the gap between ordered and shuffled frames is what T-GRPO rewards.
"""
import json
import os
import random
import sys

import av
import numpy as np


def video(path: str, rightwards: bool, rng: random.Random, frames: int = 8, size: int = 64) -> None:
    y = rng.randrange(16, size - 16)
    xs = np.linspace(8, size - 8, frames)
    with av.open(path, "w") as out:
        stream = out.add_stream("mpeg4", rate=4)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for x in (xs if rightwards else xs[::-1]):
            img = np.full((size, size, 3), 255, np.uint8)
            img[y - 5:y + 5, int(x) - 5:int(x) + 5] = (200, 30, 30)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main(n: int, directory: str, seed: int = 0) -> None:
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    for i in range(n):
        right = rng.random() < 0.5
        path = os.path.join(directory, f"dot-{i:04d}.mp4")
        video(path, right, rng)
        print(json.dumps({"id": f"dot-{i:04d}", "question": "Does the red dot move to the left or "
                          "to the right?", "options": ["to the left", "to the right"],
                          "answer": "B" if right else "A", "question_type": "multiple_choice",
                          "videos": [path]}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
