"""One training loop (single process, torchrun, DeepSpeed ZeRO 0-3), checkpoints and metrics.

    from thinkpipe.core.train import TrainConfig, Trainer, fit
    trainer = Trainer(TrainConfig(output_dir="ckpt", zero=2), model, n_examples=len(data))
    fit(trainer, data, collate)

deepspeed is imported only when a DeepSpeed engine is built.
"""
from . import dist
from .config import TrainConfig
from .data import causal_lm_loss, count_tokens, pad_collate
from .loop import Interrupted, Trainer, check_output_dir, default_optimizer, fit, plan_steps

__all__ = ["dist", "TrainConfig", "causal_lm_loss", "count_tokens", "pad_collate", "Interrupted",
           "Trainer", "check_output_dir", "default_optimizer", "fit", "plan_steps"]
