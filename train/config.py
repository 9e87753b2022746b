"""A training run's settings and their checks, apart from the loop that uses them.

The checks here refuse bad flag values, an --attention the device cannot run, and an --output that
holds something other than this run, all before the trainer loads any data or model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from accelerate import Accelerator
from viscode.train import attention
from viscode.train.options import ATTENTIONS, PRECISIONS, VARLEN

from viscode import shards
from viscode.errors import InputError


@dataclass(frozen=True, slots=True)
class TrainConfig:
    model: str
    data: str
    output: Path
    epochs: int = 3
    max_steps: int | None = None
    seed: int = 0
    max_length: int = 4096
    batch_tokens: int = 16384
    grad_accum: int = 1
    lr: float = 5e-6
    warmup: float = 0.05
    weight_decay: float = 0.05
    max_grad_norm: float = 1.0
    packing: bool = True
    loss_turns: str = "all"
    truncate: bool = False
    precision: str = "auto"
    attention: str = "auto"
    gradient_checkpointing: bool = False
    kinds: tuple[str, ...] | None = None
    libraries: tuple[str, ...] | None = None
    save_every: int = 500
    keep_last: int = 2
    eval_every: int | None = None
    report_to: str | None = None
    cache_dir: Path | None = None

    def trajectory(self) -> dict:
        """The settings a resumed run must share with the run it continues."""
        keep = ("model", "data", "epochs", "max_steps", "seed", "max_length", "batch_tokens", "grad_accum", "lr",
                "warmup", "weight_decay", "max_grad_norm", "packing", "loss_turns", "truncate", "precision",
                "kinds", "libraries")
        values = asdict(self)
        return {k: list(values[k]) if isinstance(values[k], tuple) else values[k] for k in keep}


def check(config: TrainConfig) -> None:
    for name in ("batch_tokens", "grad_accum", "save_every", "keep_last", "epochs"):
        if getattr(config, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} {getattr(config, name)}: must be at least 1")
    if config.max_steps is not None and config.max_steps < 1:
        raise InputError(f"--max-steps {config.max_steps}: must be at least 1")
    if config.precision not in PRECISIONS:
        raise InputError(f"--precision {config.precision!r}: choose from {', '.join(PRECISIONS)}")
    if config.attention not in ATTENTIONS:
        raise InputError(f"--attention {config.attention!r}: choose from {', '.join(ATTENTIONS)}")
    if config.packing and config.batch_tokens < config.max_length:
        raise InputError(f"--batch-tokens {config.batch_tokens} is smaller than --max-length {config.max_length}: "
                         "a packed row must hold the longest document")
    if not 0 <= config.warmup < 1:
        raise InputError(f"--warmup {config.warmup}: a fraction of the steps, in [0, 1)")
    if config.eval_every is not None and config.eval_every < 1:
        raise InputError(f"--eval-every {config.eval_every}: must be at least 1")
    for name in ("lr", "max_grad_norm"):
        if not getattr(config, name) > 0:
            raise InputError(f"--{name.replace('_', '-')} {getattr(config, name)}: must be positive")
    if config.weight_decay < 0:
        raise InputError(f"--weight-decay {config.weight_decay}: must not be negative")


def check_output(config: TrainConfig, accelerator: Accelerator) -> dict:
    """The run record to write: a new or empty folder will become this run's, a folder of this run (same
    trajectory, same process count) is resumed, anything else is refused naming the first difference.
    Nothing is written here, so a run refused later (bad data, no model) leaves the folder as it was."""
    # the process count decides which micro-batches make each step, so a resume must keep it too
    record = {**config.trajectory(), "processes": accelerator.num_processes}
    shards.check(config.output, record, force=False, what="training run",
                 remedy="rerun with its settings to resume, or choose another --output")
    return record


def precision(config: TrainConfig, cuda: bool) -> str:
    """auto: bf16 autocast over fp32 master weights on GPUs, fp32 elsewhere."""
    return config.precision if config.precision != "auto" else ("bf16" if cuda else "fp32")


def attention_implementation(config: TrainConfig) -> str:
    if config.attention == "auto":
        return VARLEN if config.packing and attention.varlen_available() else "sdpa"
    if config.attention == VARLEN and not (config.packing and attention.varlen_available()):
        raise InputError(f"--attention {VARLEN} needs packing and a CUDA device with torch's varlen kernel")
    return config.attention
