"""Predicted weights are a plain network: saved, loaded into the torch.nn module and run, they
compute what the tool scored. Meta-training is seeded, resumable, and lifts accuracy on classes
it never saw; a support set whose labels carry no signal scores like chance."""
import dataclasses

import numpy as np
import pytest
import torch
from torch.func import functional_call

from thinkpipe.core.train.metrics import NullMetrics
from thinkpipe.tools.pudnet import PudNetConfig, load_hyper, load_weights, predict, save_weights
from thinkpipe.tools.pudnet import episodes
from thinkpipe.tools.pudnet.data import load
from thinkpipe.tools.pudnet.maths import cosine_logits, prototypes
from thinkpipe.tools.pudnet.predict import build_hyper, realise
from thinkpipe.tools.pudnet.targets import build, support_rows
from thinkpipe.tools.pudnet.train import meta_train, validate

CFG = PudNetConfig(image_size=16, shots=5, queries=10, eval_every=0, checkpoint_every=0,
                   log_every=1000)


@pytest.fixture(scope="module")
def digits():
    return load("digits", 16, 1)


@pytest.mark.parametrize("kw", [{}, {"norm": "none"}, {"target": "resnet18", "width": 4},
                                {"task": "denoise", "target": "unet", "width": 4}])
def test_saved_weights_load_into_the_plain_module_and_compute_the_same(kw, digits, tmp_path):
    cfg = dataclasses.replace(CFG, **kw)
    torch.manual_seed(0)
    hyper, _ = build_hyper(cfg)
    task = episodes.sample(digits, [1, 3, 7], 0, 5, 6, np.random.default_rng(0), "test")
    state, spec, seconds = predict(hyper.eval(), cfg, task.xs, task.ys, 3)
    assert seconds > 0
    save_weights(str(tmp_path / "w.safetensors"), state, spec, [1, 3, 7])
    net, names = load_weights(str(tmp_path / "w.safetensors"))
    assert names == [1, 3, 7] and type(net) is type(build(spec))
    assert not any(type(m).__name__ == "SupportNorm" for m in net.modules())
    with torch.no_grad():
        plain = net(task.xq)
        params = hyper(task.xs, task.ys)
        tool = build(spec, plain=False)
        n = len(task.xs)
        with support_rows(tool, n):
            if spec["arch"] == "unet":
                ref = functional_call(tool, params, (torch.cat([task.xs, task.xq]),))[n:]
            else:
                f = functional_call(tool, params, (torch.cat([task.xs, task.xq]),),
                                    {"head": False})
                ref = cosine_logits(f[n:], prototypes(f[:n], task.ys, 3), hyper.temperature)
    assert plain.shape == ref.shape
    assert torch.allclose(plain, ref, atol=1e-5, rtol=1e-4)


def _train(digits, tmp_path, episodes_, name="h.pt", **kw):
    cfg = dataclasses.replace(CFG, episodes=episodes_, **kw)
    meta_train(digits, [0, 1, 2, 3, 4, 5], [5, 6, 7, 8, 9], cfg, str(tmp_path / name),
               NullMetrics())
    return load_hyper(str(tmp_path / name))


def test_training_is_seeded_and_resumes_where_it_stopped(digits, tmp_path):
    whole = _train(digits, tmp_path, 12, "a.pt")[0].state_dict()
    again = _train(digits, tmp_path, 12, "b.pt")[0].state_dict()
    other = _train(digits, tmp_path, 12, "c.pt", seed=1)[0].state_dict()
    assert all(torch.equal(whole[k], again[k]) for k in whole)
    assert not all(torch.equal(whole[k], other[k]) for k in whole)
    _, cfg6, ckpt = _train(digits, tmp_path, 6, "d.pt")
    assert ckpt["episode"] == 6 and ckpt["train_classes"] == [0, 1, 2, 3, 4, 5]
    meta_train(digits, [0, 1, 2, 3, 4, 5], [5, 6, 7, 8, 9], dataclasses.replace(cfg6, episodes=12),
               str(tmp_path / "d.pt"), NullMetrics(), resume=ckpt)
    resumed = load_hyper(str(tmp_path / "d.pt"))[0].state_dict()
    assert all(torch.allclose(whole[k], resumed[k], atol=1e-6) for k in whole)


def test_meta_training_lifts_accuracy_on_unseen_classes_and_noise_labels_score_chance(
        digits, tmp_path):
    cfg = dataclasses.replace(CFG, eval_tasks=30)
    torch.manual_seed(0)
    fresh, spec = build_hyper(cfg)
    net = build(spec, plain=False)
    unseen = [5, 6, 7, 8, 9]
    before = validate(fresh, net, digits, unseen, cfg)["val_accuracy"]
    trained, cfg, _ = _train(digits, tmp_path, 300)
    after = validate(trained, net, digits, unseen, cfg)["val_accuracy"]
    assert after > before + 0.1 and after > 0.55, (before, after)   # chance is 0.2
    # the same support images with labels drawn at random: the prototypes carry no signal
    rng = np.random.default_rng(0)
    accs = []
    for _ in range(20):
        task = episodes.sample(digits, unseen, 5, 5, 10, rng, "test")
        task.ys = task.ys[torch.randperm(len(task.ys))]
        state, spec5, _ = predict(trained, cfg, task.xs, task.ys, 5)
        accs.append(float((realise(state, spec5)(task.xq).argmax(-1) == task.yq).float().mean()))
    assert np.mean(accs) < 0.35, np.mean(accs)
