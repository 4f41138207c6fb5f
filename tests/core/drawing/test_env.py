"""The environment: label merging, new images, endings, determinism."""
import numpy as np
from PIL import Image

from thinkpipe.core.drawing import (Box, DrawConfig, DrawingEnv, Line, format_turn,
                                    has_reflection, render, revisions)


def img():
    return Image.new("RGB", (200, 120), "white")


def draw(ops, action="Object Mapper"):
    return format_turn("t", action, ops)


def test_drawing_appends_an_image_and_says_its_index():
    env = DrawingEnv([img()])
    step = env.step(draw([Box(1, (10, 10, 60, 50), "a")]))
    assert not step.done and step.new_images == [2] and len(env.images) == 2
    texts = [p["text"] for p in step.observation if p["type"] == "text"]
    assert texts[0].startswith("The index of the given image is 2 (width: 200, height: 120).")
    assert np.asarray(env.images[1])[10, 30].tolist() == [255, 0, 0]  # red outline, first colour


def test_same_label_replaces_and_base_mode_erases_the_old_drawing():
    env = DrawingEnv([img()])
    env.step(draw([Box(1, (10, 10, 60, 50), "a")]))
    env.step(draw([Box(2, (100, 60, 150, 100), "a")]))
    assert list(env.states[-1]) == ["a"] and env.states[-1]["a"].bbox == (100, 60, 150, 100)
    assert np.asarray(env.images[2])[10, 30].tolist() == [255, 255, 255]   # old box gone
    ref = DrawingEnv([img()], DrawConfig(redraw_from="pixels"))
    ref.step(draw([Box(1, (10, 10, 60, 50), "a")]))
    ref.step(draw([Box(2, (100, 60, 150, 100), "a")]))
    assert np.asarray(ref.images[2])[10, 30].tolist() == [255, 0, 0]      # reference: still there


def test_ops_group_by_index_and_corners_are_normalised():
    env = DrawingEnv([img(), img()])
    step = env.step(draw([Box(2, (60, 50, 10, 10), "b"), Line(1, (0, 0), (500, 500), "l")]))
    assert step.new_images == [3, 4]
    assert env.base == [0, 1, 1, 0]
    assert np.asarray(env.images[2])[10, 30].tolist() == [255, 0, 0]


def test_rendering_is_deterministic():
    state = [Box(1, (5, 5, 90, 70), "cat"), Line(1, (0, 100), (190, 5), "x")]
    a, b = render(img(), state), render(img(), state)
    assert a.tobytes() == b.tobytes()
    assert render(img().convert("P"), state).mode == "P"


def test_endings():
    env = DrawingEnv([img()])
    assert env.step("<think>hm</think> no action").reason == "no_op"
    env = DrawingEnv([img()])
    assert env.step(draw([Box(3, (1, 1, 5, 5), "a")])).reason == "bad_index"
    env = DrawingEnv([img()])
    assert env.step("<think>x</think>\n```json\n[{\"bbox_2d\": [1,2,3,4]}]\n```").reason == "bad_op"
    env = DrawingEnv([img()], DrawConfig(max_turns=2))
    first = env.step(draw([Box(1, (1, 1, 5, 5), "a")]))
    assert "cannot draw any more" in first.observation[-1]["text"]
    assert env.step(draw([Box(2, (1, 1, 9, 9), "a")])).reason == "max_turns"
    env = DrawingEnv([img()], DrawConfig(max_images=2))
    assert env.step(draw([Box(1, (1, 1, 5, 5), "a"), Box(1, (1, 1, 5, 5), "b")])).done is False
    assert env.step(draw([Box(2, (1, 1, 5, 5), "a")])).reason == "max_images"
    env = DrawingEnv([img()], DrawConfig(max_turn_tokens=10, max_total_tokens=25))
    assert env.step(draw([Box(1, (1, 1, 5, 5), "a")]), tokens=9).done is False
    assert env.step(draw([Box(2, (1, 1, 5, 5), "a")]), tokens=10).reason == "turn_tokens"
    answered = DrawingEnv([img()])
    assert answered.step("<think>k</think> Action: Answer\n<answer>7</answer>").reason == "answer"
    assert answered.step("anything").done


def test_observe_mode_turns_errors_into_observations():
    env = DrawingEnv([img()], DrawConfig(on_error="observe"))
    step = env.step(draw([Box(5, (1, 1, 5, 5), "a")]))
    assert not step.done and "does not exist" in step.observation[0]["text"]
    assert env.step(draw([Box(1, (1, 1, 5, 5), "a")])).new_images == [2]


def test_reflection_counts_boxes_and_lines_redrawn_differently():
    same = [draw([Box(1, (1, 1, 5, 5), "a")]), draw([Box(2, (1, 1, 5, 5), "a")])]
    assert not has_reflection(same)
    moved = same + [draw([Line(3, (0, 0), (4, 4), "p")]), draw([Line(4, (0, 0), (9, 4), "p")])]
    assert revisions(moved) == ["p"]
    assert has_reflection([draw([Box(1, (1, 1, 5, 5), "a")]), draw([Line(1, (1, 1), (5, 5), "a")])])
