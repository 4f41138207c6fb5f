"""synth-draw: every family's traces replay and agree with an independent solver."""
import io

import pytest
from PIL import Image

from thinkpipe.core.drawing import DrawingEnv, has_reflection, parse_turn
from thinkpipe.tools.synth_draw import TASKS, SynthConfig, make_record, make_task, solvers
from thinkpipe.tools.synth_draw.maze import Layout, carve, tree_path
from thinkpipe.tools.synth_draw.task import TraceError


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_question_kind_generates_verified_records(task):
    for question in TASKS[task]:
        for reflection_rate in (0.0, 1.0):
            cfg = SynthConfig(tasks=(task,), questions={task: (question,)}, count=6,
                              reflection_rate=reflection_rate, seed=7)
            for i in range(6):
                rec = make_record(cfg, i)   # runs the trace and its checks
                assert rec["num_turns"] >= 3
                assert rec["reflection"] == bool(reflection_rate) or \
                    (question == "count" and not rec["reflection"])


def _images(record):
    out = []
    for m in record["messages"]:
        if isinstance(m["content"], list):
            out += [p["image"] for p in m["content"] if p["type"] == "image"]
    return out


def test_a_trace_replays_from_its_text_to_the_same_pixels():
    rec = make_record(SynthConfig(tasks=("maze",), reflection_rate=1.0), 3)
    images = _images(rec)
    env = DrawingEnv([Image.open(io.BytesIO(images[0]["bytes"]))])
    turns = [m["content"] for m in rec["messages"] if m["role"] == "assistant"]
    produced = 1
    for text in turns:
        step = env.step(text)
        for k in step.new_images:
            again = env.images[k - 1].convert("RGB").tobytes()
            assert again == Image.open(io.BytesIO(images[produced]["bytes"])).convert("RGB").tobytes()
            produced += 1
    assert env.reason == "answer" and produced == len(images)
    assert parse_turn(turns[-1]).answer == rec["answer"]
    assert has_reflection(turns)


def test_the_maze_solver_reads_walls_from_pixels():
    task = make_task(SynthConfig(tasks=("maze",), questions={"maze": ("path_seq",)}), 0)
    adj, start, goal = solvers.maze_from_pixels(task)
    assert list(start) == task.meta["start"] and list(goal) == task.meta["goal"]
    assert len(solvers.shortest(adj, start, goal)) - 1 == len(task.meta["moves"])
    # a perfect maze has n*n - 1 passages; the solver must find exactly those
    assert sum(len(v) for v in adj.values()) // 2 == task.meta["grid_size"] ** 2 - 1


def test_a_wrong_answer_is_caught():
    task = make_task(SynthConfig(tasks=("geometry",), questions={"geometry": ("closer",)}), 0)
    task.answer = "B" if task.answer == "A" else "A"
    with pytest.raises(TraceError):
        solvers.check(task)


def test_maze_generation_is_a_spanning_tree():
    import random
    passages = carve(random.Random(1), 6)
    assert len(passages) == 35
    path = tree_path(passages, 6, (0, 0), (5, 5))
    assert path[0] == (0, 0) and path[-1] == (5, 5)
    assert Layout(616, 6).centre((0, 0)) == (117, 113)  # 77 + 79.57/2, 73.92 + 79.05/2


def test_config_is_validated():
    with pytest.raises(ValueError, match="unknown task"):
        SynthConfig(tasks=("chess",))
    with pytest.raises(ValueError, match="maze question"):
        SynthConfig(questions={"maze": ("colour",)})
