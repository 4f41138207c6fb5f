"""tools/fira/pretrain.py: which parameters get which lr, and the schedule keeps the split."""
import pytest
import torch

from thinkpipe.tools.fira import Fira
from thinkpipe.tools.fira.pretrain import PretrainConfig, build_optimizer


def model():
    from transformers import LlamaConfig, LlamaForCausalLM
    return LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32,
                                        num_hidden_layers=1, num_attention_heads=2))


@pytest.mark.parametrize("optimizer", ["fira", "galore", "adamw"])
def test_other_lr_sets_everything_outside_the_targets(optimizer):
    m = model()
    opt = build_optimizer(m, PretrainConfig(tokenizer="-", optimizer=optimizer, rank=4,
                                            other_lr=1e-3), lr=1e-2, weight_decay=0.0)
    assert isinstance(opt, torch.optim.AdamW if optimizer == "adamw" else Fira)
    targeted, rest = opt.param_groups
    assert targeted["lr"] == 1e-2 and len(targeted["params"]) == 7     # q k v o gate up down
    assert rest["lr"] == 1e-3 and len(rest["params"]) == 5   # embed, 2 layer norms, final norm, head
    assert {id(p) for p in targeted["params"] + rest["params"]} == {id(p) for p in m.parameters()}
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5)     # as core/train does
    assert [g["lr"] for g in opt.param_groups] == [5e-3, 5e-4]
    del sched


def test_without_other_lr_both_groups_share_the_lr():
    opt = build_optimizer(model(), PretrainConfig(tokenizer="-", optimizer="adamw"), 3e-3, 0.0)
    assert [g["lr"] for g in opt.param_groups] == [3e-3, 3e-3]
