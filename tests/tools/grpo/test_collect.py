"""Scoring a rollout batch (collect.score): endpoint calls overlap, in-process rewards stay on
the main thread, and the sum is the same whatever the concurrency."""
import threading

from thinkpipe.core.drawing.rollout import Trajectory
from thinkpipe.core.rewards import load_reward
from thinkpipe.tools.grpo.batch import Completion
from thinkpipe.tools.grpo.collect import score


def _batch(answers):
    record_of = {"p": {"id": "p", "question": "1/2?", "answer": "0.5", "question_type": "math"}}
    comps = [Completion("p", 0, k, Trajectory(
        messages=[{"role": "user", "content": "1/2?"},
                  {"role": "assistant", "content": f"<answer>{a}</answer>"}], seed=k), 3)
             for k, a in enumerate(answers)]
    return comps, record_of


def test_a_math_reward_is_scored_on_the_main_thread_at_any_concurrency():
    # math-verify's timer is a SIGALRM: off the main thread \\frac{1}{2} would score 0
    threads = set()
    accuracy = load_reward("accuracy")

    def spy(record):
        threads.add(threading.current_thread() is threading.main_thread())
        return accuracy(record)
    comps, record_of = _batch(["\\frac{1}{2}", "0.5", "3"])
    score(comps, record_of, [spy], [1.0], concurrency=8)
    assert [c.reward for c in comps] == [1.0, 1.0, 0.0] and threads == {True}


def test_endpoint_calls_overlap_and_the_rewards_do_not_depend_on_it():
    inside, most, lock = [0], [0], threading.Lock()
    barrier = threading.Barrier(2, timeout=5)

    def remote(record):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        barrier.wait()                      # two calls at once, or this times out
        with lock:
            inside[0] -= 1
        return {"http": float(len(record["messages"][-1]["content"]))}
    remote.remote = True
    local = load_reward("accuracy")
    comps, record_of = _batch(["\\frac{1}{2}", "0.5", "3", "7"])
    score(comps, record_of, [local, remote], [1.0, 0.5], concurrency=2)
    assert most[0] == 2
    assert [c.reward for c in comps] == [1.0 + 0.5 * 28, 1.0 + 0.5 * 20, 0.5 * 18, 0.5 * 18]
    assert comps[0].rewards == {"accuracy": 1.0, "http": 28.0}
