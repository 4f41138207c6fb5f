"""pudnet-predict: predict a ConvNet's parameters for an unseen dataset in one forward pass
(PudNet: Wang, Feng, Li, Yuan, Wang, "Learning to Generate Parameters of ConvNets for Unseen
Image Data", IEEE TIP 2024; arXiv 2310.11862).

A hypernetwork reads a support set (images and labels): a dataset encoder and class-aware
pooling give a dataset embedding, an adaptive hyper recurrent unit (a GRU unrolled once per
target conv layer) and per-layer generators emit every conv kernel of the target network,
and a cosine prototype head with a learnable temperature classifies any classes, seen or not.
Meta-training samples N-way episodes and trains the hypernetwork on the predicted network's
query loss. The denoising variant (the released code) predicts a U-Net trained on
blind-spot masked L1.

Departures: the classification paper's text and code are not available; the released code is
the denoising variant. The episodic objective, the prototype head, support-set normalisation
statistics (targets.py), the learned start input and mixing, class-aware pooling and every
classification hyperparameter are our choices (hyper.py, maths.py say which).

    pudnet-predict train --data digits --classes 0,1,2,3,4,5 --episodes 300 --image-size 16 -o hyper.pt > m.jsonl
    pudnet-predict --hyper hyper.pt --data digits --classes 5,6,7,8,9 --eval --baseline sgd --steps 100
    pudnet-predict --hyper hyper.pt --data digits --classes 6,7,8,9 -o weights.safetensors --emit-predictions > pred.jsonl
"""
from __future__ import annotations

from dataclasses import dataclass

TASKS = ("classify", "denoise")
DEFAULT_SHAPE = {"convnet": (32, 4), "resnet18": (64, 0), "unet": (16, 2)}


@dataclass(frozen=True)
class PudNetConfig:
    task: str = "classify"               # classify (N-way episodes) | denoise (blind-spot L1)
    target: str = "convnet"              # convnet | resnet18 (classify); unet (denoise)
    width: int = 0                       # target width (0: convnet 32, resnet18 64, unet 16)
    depth: int = 0                       # convnet blocks / unet levels (0: 4 / 2)
    norm: str = "batch"                  # convnet normalisation: batch | none (convs get biases)
    image_size: int = 28                 # images are resized to this square side
    channels: int = 1                    # image channels (grey 1, RGB 3)
    embed: int = 128                     # d: the GRU width and the per-layer vector size
    gru_layers: int = 2                  # G: stacked GRU layers (the dataset embedding is G*d)
    gen_hidden: int = 8                  # m: each generator's hidden channels (released: 8)
    mix: float = 0.1                     # a_l's initial value (released: skt_a = 0.1)
    pool: str = "class"                  # hyper.POOLS entry: class (mean of class means) | spread | image
    episodes: int = 1000                 # meta-training episodes (one optimiser step each)
    ways: int = 5                        # N classes per episode
    shots: int = 10                      # K support images per class
    queries: int = 15                    # query images per class (the loss)
    lr: float = 1e-3                     # Adam learning rate (released: 1e-3)
    beta1: float = 0.5                   # Adam beta1 (released: 0.5)
    sigma: float = 25 / 255              # denoise: Gaussian noise std on [0, 1] (released: 25/255)
    mask_ratio: float = 0.1              # denoise: share of blind-spot pixels (released: 10%)
    mask_window: int = 5                 # denoise: neighbour window side (released: 5)
    eval_every: int = 100                # validation every this many episodes (0: never)
    eval_tasks: int = 20                 # fixed validation tasks
    checkpoint_every: int = 200          # -o is rewritten every this many episodes
    log_every: int = 10                  # a metrics line every this many episodes
    seed: int = 0                        # initialisation and episode sampling

    def __post_init__(self):
        from .hyper import POOLS
        from .targets import ARCHS
        checks = [(self.task in TASKS, f"--task must be one of {', '.join(TASKS)}"),
                  (self.target in ARCHS, f"--target must be one of {', '.join(ARCHS)}"),
                  ((self.task == "denoise") == (self.target == "unet"),
                   "--task denoise predicts --target unet; classify predicts convnet or resnet18"),
                  (self.norm in ("batch", "none"), "--norm must be batch or none"),
                  (self.pool in POOLS, f"--pool must be one of {', '.join(POOLS)}"),
                  (self.ways >= 2 or self.task == "denoise", "--ways must be at least 2"),
                  (self.image_size >= 8, "--image-size must be at least 8")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def spec(self, classes: int) -> dict:
        """The target network's spec (targets.build) for a head of `classes`."""
        width, depth = DEFAULT_SHAPE[self.target]
        return {"arch": self.target, "channels": self.channels, "width": self.width or width,
                "depth": self.depth or depth, "classes": classes, "norm": self.norm}


from .predict import load_hyper, load_weights, predict, save_weights  # noqa: E402
from .run import predict_command, train_command  # noqa: E402

__all__ = ["PudNetConfig", "TASKS", "load_hyper", "load_weights", "predict", "save_weights",
           "predict_command", "train_command"]
