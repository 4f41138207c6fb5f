"""The token-weighting module, its mask, the answer predictor and step difficulty (paper 3.3, Eq. 8)."""
import json
import math

import pytest
import torch

from thinkpipe.tools.kpod.rationale import encode, from_record
from thinkpipe.tools.kpod.weighting import (AnswerPredictor, TokenWeighter, gumbel_mask, mask_loss,
                                            step_difficulty, weights)


@pytest.fixture(scope="module")
def student(tiny_models):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    path = tiny_models["llama"]
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def rationales(tok, n=3):
    texts = ["Tom has 3. He buys 2, 3 + 2 = 5.", "Two and two. That is 4.", "One step only."]
    return [encode(from_record({"question": f"q{i}?", "rationale": texts[i % 3], "answer": str(i)},
                               f"f:{i}", str(i)), tok) for i in range(n)]


def test_the_mask_is_binary_kept_with_probability_w_and_passes_gradients():
    w = torch.tensor([0.1, 0.5, 0.9]).repeat(4000, 1).requires_grad_()
    m = gumbel_mask(w, 1.0, torch.Generator().manual_seed(0))
    assert torch.allclose(m.detach(), m.detach().round(), atol=1e-6)   # 0 or 1 (up to rounding)
    assert m.detach().mean(0).tolist() == pytest.approx([0.1, 0.5, 0.9], abs=0.03)
    m.sum().backward()                           # straight-through: the soft sample's gradient
    assert (w.grad > 0).all()


def test_step_difficulty_is_the_nll_weighted_by_the_softmax_of_w_within_each_step(student):
    _, tok = student
    e = rationales(tok)[1]                       # "Two and two." " That is 4."
    n = len(e.rationale_ids)
    nll = torch.arange(1.0, n + 1)
    w = torch.zeros(n)
    (a, b), (c, d) = [(x - e.start, y - e.start) for x, y in e.steps]
    w[c] = math.log(3.0)                         # the first token of step 2 gets 3x the others
    expected = [nll[a:b].mean().item(),
                (3 * nll[c] + nll[c + 1:d].sum()).item() / (3 + (d - c - 1))]
    assert step_difficulty(nll, w, e).tolist() == pytest.approx(expected)


def test_weights_are_probabilities_zero_at_padding(student):
    model, tok = student
    batch = rationales(tok)
    w = weights(TokenWeighter(model.get_input_embeddings().weight), batch)
    for i, e in enumerate(batch):
        n = len(e.rationale_ids)
        assert ((w[i, :n] > 0) & (w[i, :n] < 1)).all() and (w[i, n:] == 0).all()


def test_batched_answer_rows_equal_rows_scored_one_by_one(student):
    model, tok = student
    predictor = AnswerPredictor(model, model.config.hidden_size).eval()
    embed = model.get_input_embeddings()
    batch = rationales(tok)
    rows = [(e, torch.rand(len(e.rationale_ids)), k) for e in batch
            for k in (1, len(e.rationale_ids))]
    together = predictor.loss(rows, embed)
    alone = torch.cat([predictor.loss([r], embed) for r in rows])
    assert together.tolist() == pytest.approx(alone.tolist(), rel=1e-4)
    assert (together > 0).all()


def test_a_seq2seq_predictor_reads_the_students_embeddings_through_a_projection(student):
    from transformers import T5Config, T5ForConditionalGeneration
    model, tok = student
    t5 = T5ForConditionalGeneration(T5Config(vocab_size=len(tok), d_model=48, d_ff=64, d_kv=12,
                                             num_layers=1, num_heads=4, decoder_start_token_id=0,
                                             pad_token_id=0, eos_token_id=1))
    predictor = AnswerPredictor(t5, model.config.hidden_size, tok)
    weighter = TokenWeighter(model.get_input_embeddings().weight)
    out = mask_loss(weighter, predictor, rationales(tok), 0.5, 1.0, 2, torch.Generator())
    out["loss"].backward()
    assert torch.isfinite(out["loss"]) and weighter.mlp[0].weight.grad.abs().sum() > 0
    assert predictor.proj.weight.grad.abs().sum() > 0


@pytest.mark.slow
def test_learned_weights_rank_digits_and_operators_above_fillers(cli, tmp_path):
    """The paper's Fig. 2 as a check: on arithmetic rationales with filler words, the module
    learns that the answer depends on the numbers and operators, not on the fillers. Like the
    paper's pretrained FlanT5 predictor, the answer predictor must first be able to read a
    rationale: the student is distilled plainly first (a predictor that cannot read one
    learns to mask everything, and every weight falls to 0)."""
    from thinkpipe.core.models.tiny import TinySpec, build_tiny
    from thinkpipe.tools.kpod.synthetic import FILLERS, arithmetic
    train = list(arithmetic(400, seed=5))
    texts = tuple(t for r in arithmetic(400, seed=99) for t in (r["question"], r["rationale"]))
    build_tiny("llama", str(tmp_path / "tiny"), TinySpec(corpus=texts, initializer_range=0.02))
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    common = ["--per-device-train-batch-size", "8", "--learning-rate", "2e-3", "-q",
              str(tmp_path / "train.jsonl")]
    base = cli(["distill-kpod", "--model", str(tmp_path / "tiny"), "--method", "plain",
                "--output-dir", str(tmp_path / "base"), "--num-train-epochs", "6", *common],
               timeout=600)
    assert base.rc == 0, base.stderr[-2000:]
    fillers = {w for f in FILLERS for w in f.split()}
    for seed in (0, 1):
        out = tmp_path / f"w{seed}.jsonl"
        r = cli(["distill-kpod", "--model", str(tmp_path / "base"), "--output-dir",
                 str(tmp_path / f"kpod{seed}"), "--max-steps", "1", "--weighting-epochs", "4",
                 "--weighting-lr", "1e-3", "--seed", str(seed), "--emit-weights", str(out),
                 *common], timeout=600)
        assert r.rc == 0, r.stderr[-2000:]
        key, filler = [], []
        for rec in map(json.loads, open(out)):
            for t, w in zip(rec["tokens"], rec["weights"]):
                t = t.strip()
                (key if t.isdigit() or t in ("+", "-", "*", "=") else
                 filler if t in fillers else []).append(w)
        assert len(key) > 500 and len(filler) > 200
        auc = sum((a > b) + 0.5 * (a == b) for a in key for b in filler) / (len(key) * len(filler))
        assert auc > 0.8, (seed, auc)              # chance is 0.5
