"""Fira: full-rank training under a low-rank optimizer-state constraint, and `fira-pretrain`.

    from thinkpipe.tools.fira import Fira, GaLore, param_groups
    opt = Fira(param_groups(model, targets=["attn", "mlp"], rank=128, alpha=0.25), lr=1e-2)

    fira-pretrain --size tiny --tokenizer models/tiny-llm --optimizer fira --max-steps 300 wikitext.jsonl
    fira-pretrain --size 60m --tokenizer t5-base-tok --optimizer galore corpus.parquet --eval-file val.jsonl
    torchrun --nproc_per_node 8 $(which fira-pretrain) --size 130m --tokenizer tok c4.parquet --output-dir ckpt

The optimizer (optimizer.py, maths in maths.py) runs Adam on the gradient projected onto its
top-r singular subspace (refreshed every T steps, as GaLore) and adds the residual outside the
subspace, rescaled column-wise to Adam's magnitude and held back by a norm-growth limiter. The
paper's Algorithm 1 is `variant="paper"` (default); `variant="released"` reproduces PyPI `fira`
1.0.2 step for step (the residual keeps (1 - alpha) of the in-subspace gradient and is added
without alpha). `param_groups` selects matrices by module name or type and refuses to select
none — the official helper silently selects nothing for ["Linear"].
"""
from __future__ import annotations

from .optimizer import SCALINGS, VARIANTS, Fira, GaLore


def param_groups(model, targets=("attn", "mlp"), rank: int = 128, update_proj_gap: int = 200,
                 alpha: float = 0.25, proj_type: str = "std") -> list[dict]:
    """[{plain params}, {projected matrices, rank, update_proj_gap, alpha, proj_type}].

    A module is projected when it is a Linear whose name contains one of `targets`, or whose
    class name equals one of them ("Linear" selects every Linear). ValueError if none is.
    """
    import torch.nn as nn

    chosen = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear) or module.weight.ndim != 2:
            continue
        if any(t in name for t in targets) or type(module).__name__ in targets:
            chosen.append(module.weight)
    if not chosen:
        raise ValueError(f"no matrix selected for projection by {list(targets)}: give module "
                         "name parts (e.g. attn, mlp) or a class name (Linear)")
    ids = {id(p) for p in chosen}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return [{"params": rest},
            {"params": chosen, "rank": rank, "update_proj_gap": update_proj_gap, "alpha": alpha,
             "proj_type": proj_type}]


__all__ = ["Fira", "GaLore", "param_groups", "VARIANTS", "SCALINGS"]
