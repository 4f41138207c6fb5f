"""pudnet-predict: predict ConvNet parameters for an unseen dataset (tools/pudnet)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import Config, Format, OnError, ProgressEvery, Quiet, Seed, Verbose
from .options import comma_list as _list
from .options import panel_option as _opt
from .train_options import TRACKERS_MAN, ReportTo, RunName
from .runner import guard, records, usage_errors

DATA, TARGET, HYPER, TRAIN, DENOISE, PREDICT = (
    "Data", "Target network (train)", "Hypernetwork (train)", "Meta-training",
    "Denoising (train)", "Prediction and evaluation")

EXAMPLES = """\
pudnet-predict train --data digits --classes 0,1,2,3,4,5 --episodes 300 --image-size 16 -o hyper.pt > m.jsonl
pudnet-predict --hyper hyper.pt --data digits --classes 5,6,7,8,9 --eval --baseline sgd --steps 100
pudnet-predict --hyper hyper.pt --data digits --classes 6,7,8,9 -o weights.safetensors --emit-predictions > pred.jsonl
pudnet-predict train --data ../shared/data/mnist --classes 0,1,2,3,4,5 --val-classes 5,6,7,8,9 --episodes 2000 -o hyper.pt > m.jsonl
pudnet-predict train --task denoise --target unet --data digits --episodes 300 --image-size 16 -o den.pt > m.jsonl
"""

MAN_SECTIONS = {"Paper and our choices": """\
Follows the paper (Wang et al., IEEE TIP 2024; abstracts and the released denoising code,
tulerfeng/PudNet; the classification text and code are not available): a hypernetwork maps a
dataset to the parameters of a ConvNet in one forward pass. A dataset encoder (three 5x5
stride-2 convs, a linear layer) sketches each image; a GRU whose initial hidden state is the
dataset embedding is unrolled once per target conv layer, each step's output (Linear, ReLU)
the next step's input, its hidden state layer-normalised; each layer's output is mixed with
the mean dataset embedding, layer-normalised, and a per-layer generator (Linear to m x k x k,
GELU, 1x1 conv to 2m, GELU, 1x1 conv to out x in) emits that layer's kernel. Normalisation
affine parameters are ordinary parameters of the hypernetwork. Adam lr 1e-3, betas (0.5,
0.999). Denoising: a U-Net, Gaussian noise sigma 25/255, 10% blind-spot pixels replaced by a
random neighbour in a 5x5 window, L1 on those pixels; PSNR.

Our choices. Classification head: a cosine prototype head with a learnable temperature
(initialised at 10: the unused classify() the release keeps), prototypes the class means of the
support features of the predicted network, so any classes can be classified. Objective:
episodic (N-way tasks; the predicted network's query cross-entropy trains the hypernetwork;
the paper's auxiliary objectives are not known). Pooling: class-aware (mean per class, then
over classes; --pool spread adds the std of the class means; --pool image is the release's
mean over images). The start input and per-layer
mixing weights are learned (release: a fixed random vector, a fixed 0.1); the encoder ends in
LayerNorm (release: BatchNorm1d); kernels are scaled by sqrt(2 / fan_in); biases are emitted
where a conv has one (--norm none, the U-Net's last conv). Normalisation statistics are the
support set's: meta-training normalises each task with its support images' statistics and
the saved network carries them as running statistics, so the plain module in eval mode
computes what the tool scored. ResNet-18 uses the small-image stem (3x3 stride 1, no
max-pool).

Protocol. Meta-training draws support and query images from the train split of --classes;
validation (every --eval-every episodes) uses fixed tasks over --val-classes with queries
from the test split. Prediction takes --shots images per class from the train split as the
support set and evaluates on the test split (MNIST's t10k files, a record's "split", or the
last 30% of each class for data without one). --baseline sgd trains the same target from
scratch on the same support set with Adam for --steps mini-batch steps and reports its
accuracy (or PSNR) and seconds in the same summary record, with speedup = baseline seconds /
predict seconds. predict_seconds covers the hypernetwork pass and the support pass that fixes
the statistics and prototypes, not reading the data.

Files. train -o writes a checkpoint (torch.save; load only files you trust) rewritten every
--checkpoint-every episodes and on Ctrl-C; --resume continues it; --keep-best FILE also
keeps the checkpoint of the best validation so far (meta-training on few classes overfits
them: see bench/RESULTS.md). Prediction -o writes
.safetensors whose metadata holds the target spec and class names: tools.pudnet.load_weights
rebuilds the plain network. stdout: train writes metrics JSONL (or --metrics FILE); predict
writes one record per held-out image with --emit-predictions ({id, split, label, pred,
score}, or {id, split, psnr_noisy, psnr} when denoising), then with --eval a summary record
{"summary": true, accuracy | psnr, predict_seconds, n_support, n_eval, classes, ...}.
Data: --data digits (scikit-learn's bundled 8x8 digits), an IDX folder (MNIST's
train-/t10k- files, gzip or not), or a records file (or - for stdin) of {image, label}.
""", "Experiment trackers": TRACKERS_MAN}


class Action(str, Enum):
    train = "train"
    predict = "predict"


class Target(str, Enum):
    convnet = "convnet"
    resnet18 = "resnet18"
    unet = "unet"


class Task(str, Enum):
    classify = "classify"
    denoise = "denoise"


class Pool(str, Enum):
    klass = "class"
    spread = "spread"
    image = "image"


class Baseline(str, Enum):
    sgd = "sgd"


def _loader(data: str, on_error: str):
    """load(image_size, channels) -> ImageSet: a built-in, an IDX folder or records."""
    import os

    from thinkpipe.tools.pudnet.data import load

    def load_data(size: int, channels: int):
        if data == "digits" or os.path.isdir(data):
            return load(data, size, channels)
        with records([data], on_error) as stream:
            return load(data, size, channels, items=stream.items)
    return load_data


def pudnet_predict(
    action: Annotated[Action, typer.Argument(help="train: meta-train a hypernetwork; predict "
                                             "(the default): weights for a support set.")] = Action.predict,
    data: Annotated[Optional[str], _opt("--data", DATA, "digits, an IDX folder (MNIST) or a "
                                        "records file of {image, label} (- for stdin).",
                                        metavar="PATH")] = None,
    classes: Annotated[Optional[str], _opt("--classes", DATA, "Comma list of classes (train: "
                                           "to meta-train on; predict: the support set's). "
                                           "Default: all.", metavar="LIST")] = None,
    val_classes: Annotated[Optional[str], _opt("--val-classes", DATA, "train: classes of the "
                                               "validation tasks (default --classes).",
                                               metavar="LIST")] = None,
    shots: Annotated[int, _opt("--shots", DATA, "Support images per class (predict: 0 takes "
                               "the whole train split).", min=0)] = 10,
    queries: Annotated[Optional[int], _opt("--queries", DATA, "Query images per class (train: "
                                           "per episode, default 15; predict: held-out images "
                                           "per class evaluated, default 0: all).", min=0)] = None,
    image_size: Annotated[int, _opt("--image-size", DATA, "train: the square side images are "
                                    "resized to.", min=8)] = 28,
    channels: Annotated[int, _opt("--channels", DATA, "train: image channels (1 grey, 3 RGB).",
                                  min=1)] = 1,
    task: Annotated[Task, _opt("--task", TARGET, "classify or denoise.")] = Task.classify,
    target: Annotated[Target, _opt("--target", TARGET, "convnet or resnet18 (classify), unet "
                                   "(denoise).")] = Target.convnet,
    width: Annotated[int, _opt("--width", TARGET, "Width (0: convnet 32, resnet18 64, unet 16).",
                               min=0)] = 0,
    depth: Annotated[int, _opt("--depth", TARGET, "convnet blocks or unet levels (0: 4, 2).",
                               min=0)] = 0,
    norm: Annotated[str, _opt("--norm", TARGET, "convnet normalisation: batch or none.")] = "batch",
    embed: Annotated[int, _opt("--embed", HYPER, "GRU width d.", min=8)] = 128,
    gru_layers: Annotated[int, _opt("--gru-layers", HYPER, "Stacked GRU layers.", min=1)] = 2,
    gen_hidden: Annotated[int, _opt("--gen-hidden", HYPER, "Generator hidden channels m.",
                                    min=1)] = 8,
    mix: Annotated[float, _opt("--mix", HYPER, "Initial per-layer mixing weight.", min=0.0,
                               max=1.0)] = 0.1,
    pool: Annotated[Pool, _opt("--pool", HYPER, "class (mean of class means), spread (plus "
                               "their std) or image (mean of images).")] = Pool.klass,
    episodes: Annotated[int, _opt("--episodes", TRAIN, "Meta-training episodes.", min=1)] = 1000,
    ways: Annotated[int, _opt("--ways", TRAIN, "Classes per episode.", min=1)] = 5,
    lr: Annotated[float, _opt("--lr", TRAIN, "Adam learning rate.", min=0.0)] = 1e-3,
    beta1: Annotated[float, _opt("--beta1", TRAIN, "Adam beta1.", min=0.0, max=0.999)] = 0.5,
    eval_every: Annotated[int, _opt("--eval-every", TRAIN, "Validate every N episodes (0: "
                                    "never).", min=0)] = 100,
    eval_tasks: Annotated[int, _opt("--eval-tasks", TRAIN, "Fixed validation tasks.", min=1)] = 20,
    checkpoint_every: Annotated[int, _opt("--checkpoint-every", TRAIN, "Rewrite -o every N "
                                          "episodes (0: at the end).", min=0)] = 200,
    log_every: Annotated[int, _opt("--log-every", TRAIN, "A metrics line every N episodes.",
                                   min=1)] = 10,
    resume: Annotated[bool, _opt("--resume", TRAIN, "Continue the checkpoint at -o.")] = False,
    keep_best: Annotated[Optional[str], _opt("--keep-best", TRAIN, "Also write the hypernetwork "
                                             "here whenever validation improves.",
                                             metavar="FILE")] = None,
    metrics: Annotated[Optional[str], _opt("--metrics", TRAIN, "Metrics JSONL here instead of "
                                           "stdout.", metavar="FILE")] = None,
    report_to: ReportTo = "none",
    run_name: RunName = None,
    sigma: Annotated[float, _opt("--sigma", DENOISE, "Noise std on the 0-255 scale.",
                                 min=0.0)] = 25.0,
    mask_ratio: Annotated[float, _opt("--mask-ratio", DENOISE, "Blind-spot pixel share.",
                                      min=0.0, max=1.0)] = 0.1,
    mask_window: Annotated[int, _opt("--mask-window", DENOISE, "Neighbour window side.",
                                     min=3)] = 5,
    hyper: Annotated[Optional[str], _opt("--hyper", PREDICT, "The hypernetwork (train -o).",
                                         metavar="FILE")] = None,
    emit_predictions: Annotated[bool, _opt("--emit-predictions", PREDICT, "A record per held-out "
                                           "image on stdout.")] = False,
    evaluate: Annotated[bool, _opt("--eval", PREDICT, "A summary record: accuracy (or PSNR) on "
                                   "held-out images, predict seconds.")] = False,
    baseline: Annotated[Optional[Baseline], _opt("--baseline", PREDICT, "sgd: also train the "
                                                 "target from scratch on the support set.")] = None,
    steps: Annotated[int, _opt("--steps", PREDICT, "The baseline's steps.", min=1)] = 200,
    baseline_lr: Annotated[float, _opt("--baseline-lr", PREDICT, "The baseline's Adam lr.",
                                       min=0.0)] = 1e-3,
    batch_size: Annotated[int, _opt("--batch-size", PREDICT, "The baseline's batch.", min=1)] = 64,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE", rich_help_panel="Input and output",
        help="train: the hypernetwork checkpoint (required); predict: the weights "
             "(.safetensors).")] = None,
    fmt: Format = None,
    on_error: OnError = "fail",
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
) -> None:
    """Predict the parameters of a ConvNet for an unseen dataset in one forward pass (PudNet).

    `pudnet-predict train` meta-trains the hypernetwork on N-way tasks and writes it to -o;
    `pudnet-predict --hyper FILE` predicts a network from a support set of --classes, writes
    its weights to -o, and with --eval (and --baseline sgd) prints a summary record.
    """
    with guard("pudnet-predict", verbose, quiet, progress_every):
        from thinkpipe.core.errors import UsageError
        if not data:
            raise UsageError("give --data: digits, an IDX folder or a records file")
        load_data = _loader(data, on_error)
        if action == Action.train:
            _train(load_data, locals())
            return
        if not hyper:
            raise UsageError("predicting needs --hyper FILE (written by `pudnet-predict train`)")
        if not (output or emit_predictions or evaluate):
            raise UsageError("nothing to do: give -o FILE.safetensors, --emit-predictions or --eval")
        from thinkpipe.core.records import RecordWriter
        from thinkpipe.tools.pudnet import predict_command
        with RecordWriter(None, fmt.value if fmt else None) as out:
            predict_command(hyper, load_data, _list(classes), shots, queries or 0, output, out,
                            emit_predictions, evaluate, baseline and baseline.value, steps,
                            baseline_lr, batch_size, seed)


def _train(load_data, o: dict) -> None:
    from thinkpipe.core.errors import UsageError
    if not o["output"]:
        raise UsageError("train needs -o FILE for the hypernetwork")
    from thinkpipe.core.train import trackers
    from thinkpipe.core.train.metrics import Metrics
    from thinkpipe.tools.pudnet import PudNetConfig, train_command
    with usage_errors():
        cfg = PudNetConfig(
            task=o["task"].value, target=o["target"].value, width=o["width"], depth=o["depth"],
            norm=o["norm"], image_size=o["image_size"], channels=o["channels"], embed=o["embed"],
            gru_layers=o["gru_layers"], gen_hidden=o["gen_hidden"], mix=o["mix"],
            pool=o["pool"].value, episodes=o["episodes"], ways=o["ways"], shots=o["shots"] or 10,
            queries=15 if o["queries"] is None else o["queries"], lr=o["lr"], beta1=o["beta1"],
            sigma=o["sigma"] / 255,
            mask_ratio=o["mask_ratio"], mask_window=o["mask_window"],
            eval_every=o["eval_every"], eval_tasks=o["eval_tasks"],
            checkpoint_every=o["checkpoint_every"], log_every=o["log_every"], seed=o["seed"])
    data = load_data(cfg.image_size, cfg.channels)
    log_to = Metrics(o["metrics"], report=trackers.open_report(
        o["report_to"], trackers.file_run(o["output"], cfg, o["run_name"])))
    try:
        train_command(data, cfg, _list(o["classes"]), _list(o["val_classes"]), o["output"],
                      log_to, o["resume"], o["keep_best"])
    finally:
        log_to.close()
