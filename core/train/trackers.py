"""Experiment trackers: `--report-to none|tensorboard|wandb|mlflow|trackio`, a comma list spelled
as TRL and the HF Trainer spell it.

Each tracker receives what the metrics JSONL holds — every numeric field of a row, under the
row's `step` (nested dicts flattened as `a/b`) — plus the resolved config as hyperparameters, the
run name and the output dir. A tracker's package is an optional extra
(`pip install 'thinkpipe[wandb]'`), imported only when the tracker is asked for; a missing one is
a one-line usage error before any model is loaded (`check`). Only rank 0 reports (metrics.py).

Where each one writes, with nothing reaching the network unless the tracker is set up for it:
    tensorboard   event files in --logging-dir (default OUTPUT_DIR/runs/RUN_NAME)
    wandb         OUTPUT_DIR/wandb; project $WANDB_PROJECT or "thinkpipe"; WANDB_MODE=offline
                  keeps the run on disk (`wandb sync` uploads it later)
    mlflow        $MLFLOW_TRACKING_URI (default: the file store ./mlruns, which mlflow-skinny
                  can write, where mlflow 3's own default, sqlite, needs the full mlflow); experiment
                  $MLFLOW_EXPERIMENT_NAME or "thinkpipe"
    trackio       trackio's local store ($TRACKIO_DIR); project $TRACKIO_PROJECT or "thinkpipe"

    sft --model m --output-dir out --report-to tensorboard data.jsonl
    WANDB_MODE=offline grpo --model m --output-dir out --report-to wandb,mlflow data.jsonl
"""
from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass, field

from ..errors import ServiceError, UsageError


@dataclass(frozen=True)
class Run:
    """What every tracker is told about the run besides its scalars."""
    output_dir: str                              # checkpoints and the final model
    name: str | None = None                      # --run-name; default: output_dir's basename
    config: dict = field(default_factory=dict)   # the resolved config, logged as hyperparameters
    logging_dir: str | None = None               # TensorBoard's folder

    @property
    def run_name(self) -> str:
        return self.name or os.path.basename(os.path.abspath(self.output_dir))


STEP_KEYS = ("step", "episode", "epoch")


def scalars(row: dict, prefix: str = "", skip=("step",)) -> dict[str, float]:
    """The numbers of a metrics row (not its step keys, not booleans), nested dicts flattened
    `a/b`."""
    out: dict[str, float] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(scalars(value, name + "/", ()))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and name not in skip:
            out[name] = float(value)
    return out


def flat_params(config: dict, prefix: str = "") -> dict[str, str | int | float | bool]:
    """The config as flat `a.b` hyperparameters; lists and None become text."""
    out: dict = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_params(value, name + "."))
        else:
            out[name] = value if isinstance(value, (str, int, float, bool)) else \
                json.dumps(value, default=str)
    return out


class TensorBoard:
    def __init__(self, run: Run):
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams
        folder = run.logging_dir or os.path.join(run.output_dir, "runs", run.run_name)
        self._writer = SummaryWriter(folder)
        self._writer.add_text("config", "```json\n" + json.dumps(run.config, indent=2,
                                                                 default=str) + "\n```")
        self._writer.add_text("output_dir", run.output_dir)
        for summary in hparams(flat_params(run.config), {}):   # the HPARAMS tab, same file
            self._writer.file_writer.add_summary(summary)

    def log(self, values: dict[str, float], step: int) -> None:
        for key, value in values.items():
            self._writer.add_scalar(key, value, step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class WandB:
    def __init__(self, run: Run):
        import wandb
        os.makedirs(run.output_dir, exist_ok=True)
        self._run = wandb.init(project=os.environ.get("WANDB_PROJECT", "thinkpipe"),
                               name=run.run_name, dir=run.output_dir, config=run.config,
                               notes=f"output_dir: {run.output_dir}", reinit="create_new")

    def log(self, values: dict[str, float], step: int) -> None:
        self._run.log(values, step=step)

    def close(self) -> None:
        self._run.finish()


class MLflow:
    MAX_PARAMS = 100                                 # mlflow's batch limit

    def __init__(self, run: Run):
        import mlflow
        self._mlflow = mlflow
        if not os.environ.get("MLFLOW_TRACKING_URI"):    # mlflow 3's default, sqlite, needs
            mlflow.set_tracking_uri("file:" + os.path.abspath("mlruns"))   # the full mlflow
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")   # mlflow 3 refuses it else
        mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", "thinkpipe"))
        self._run = mlflow.start_run(run_name=run.run_name)
        params = {k: str(v)[:6000] for k, v in flat_params(run.config).items()}
        names = sorted(params)
        for i in range(0, len(names), self.MAX_PARAMS):
            mlflow.log_params({k: params[k] for k in names[i:i + self.MAX_PARAMS]})
        mlflow.set_tag("output_dir", os.path.abspath(run.output_dir))

    def log(self, values: dict[str, float], step: int) -> None:
        self._mlflow.log_metrics(values, step=step)

    def close(self) -> None:
        self._mlflow.end_run()


class Trackio:
    def __init__(self, run: Run):
        import trackio
        self._trackio = trackio
        trackio.init(project=os.environ.get("TRACKIO_PROJECT", "thinkpipe"), name=run.run_name,
                     config=run.config)

    def log(self, values: dict[str, float], step: int) -> None:
        self._trackio.log(values, step=step)

    def close(self) -> None:
        self._trackio.finish()


# name -> (the module it imports, the extra that installs it, the tracker)
TRACKERS = {
    "tensorboard": ("tensorboard", "tensorboard", TensorBoard),
    "wandb": ("wandb", "wandb", WandB),
    "mlflow": ("mlflow", "mlflow", MLflow),
    "trackio": ("trackio", "trackio", Trackio),
}


def parse(value: str | None) -> tuple[str, ...]:
    """`--report-to` as tracker names: "none" or empty is none, "a,b" is both. UsageError on an
    unknown name."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in (value or "").split(",") if n.strip()))
    names = tuple(n for n in names if n != "none")
    unknown = [n for n in names if n not in TRACKERS]
    if unknown:
        raise UsageError(f"--report-to {value}: unknown tracker {', '.join(unknown)}; choose "
                         f"none or a comma list of {', '.join(TRACKERS)}")
    return names


def check(names: tuple[str, ...]) -> None:
    """UsageError naming the install command for the first tracker whose package is missing."""
    for name in names:
        module, extra, _ = TRACKERS[name]
        if importlib.util.find_spec(module) is None:
            raise UsageError(f"--report-to {name} needs the {module} package: "
                             f"pip install 'thinkpipe[{extra}]'")


class Report:
    """Every asked-for tracker, fed the same rows; `close()` ends each run."""

    def __init__(self, names: tuple[str, ...], run: Run):
        check(names)
        self._trackers, self._step = [], 0
        for name in names:
            try:
                self._trackers.append(TRACKERS[name][2](run))
            except Exception as e:
                self.close()
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                raise ServiceError(f"--report-to {name}: cannot start the run: {first}") from e
            except BaseException:
                self.close()
                raise

    def log(self, row: dict) -> None:
        """A row's step is its `step`, else `episode` or `epoch` (pudnet, freekd); a row with
        none (a closing summary) is logged at the last step seen."""
        step = next((row[k] for k in STEP_KEYS if isinstance(row.get(k), int)), self._step)
        self._step = step
        values = scalars(row, skip=STEP_KEYS)
        if values:
            for tracker in self._trackers:
                tracker.log(values, step)

    def close(self) -> None:
        while self._trackers:
            self._trackers.pop().close()


def open_report(report_to: str | None, run: Run) -> Report | None:
    """The Report for `--report-to` (None when it names no tracker)."""
    names = parse(report_to)
    return Report(names, run) if names else None


def file_run(output: str | None, config, name: str | None = None) -> Run:
    """The Run of a trainer whose -o is one checkpoint FILE: its folder, named after the file."""
    import dataclasses
    folder = os.path.dirname(os.path.abspath(output)) if output else os.getcwd()
    stem = os.path.splitext(os.path.basename(output))[0] if output else None
    params = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    return Run(folder, name or stem, params)
