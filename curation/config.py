"""What a curation run produces, as one typed record: every step reads its settings
here, and the manifest records it (less how the run was executed)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from viscode.curation.code_feedback import FeedbackFilter
from viscode.curation.decide import Caps
from viscode.curation.decontam import DEFAULT_THRESHOLD
from viscode.curation.images import ImageBounds
from viscode.curation.llm import LLMConfig
from viscode.curation.minhash import MinHashConfig
from viscode.grid.executor import SandboxSettings

from viscode.errors import InputError


@dataclass(frozen=True, slots=True)
class CurationConfig:
    val_fraction: float = 0.05
    llm: LLMConfig | None = None                 # None: rule-based instructions only
    caps: Caps = field(default_factory=Caps)
    benchmarks: tuple[Path, ...] = ()            # task files besides the bundled PandasPlotBench tasks
    decontam_threshold: float = DEFAULT_THRESHOLD
    repair_fraction: float = 0.2                 # share of kept snippets that get a repair dialogue
    repair_settings: SandboxSettings = field(default_factory=SandboxSettings)
    scheduler: str | None = None                 # grid for repair variants: None = embedded cluster
    workers: int | None = None
    code_feedback: tuple[Path, ...] = ()
    feedback_filter: FeedbackFilter = field(default_factory=FeedbackFilter)
    image_bounds: ImageBounds = field(default_factory=ImageBounds)
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    phash_distance: int = 4
    shard_rows: int = 5000
    jobs: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))
    skip_bad_shards: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.val_fraction < 1:
            raise InputError(f"val fraction must be in [0, 1), got {self.val_fraction}")
        if not 0 <= self.repair_fraction <= 1:
            raise InputError(f"repair fraction must be in [0, 1], got {self.repair_fraction}")
        if not 0 < self.decontam_threshold <= 1:
            raise InputError(f"decontamination threshold must be in (0, 1], got {self.decontam_threshold}")
        if self.shard_rows < 1 or self.jobs < 1:
            raise InputError("shard rows and jobs must be >= 1")

    def to_json(self) -> dict:
        out = asdict(self)
        out["llm"] = None if self.llm is None else {"endpoint": self.llm.endpoint, "model": self.llm.model,
                                                    "temperature": self.llm.temperature}
        out["benchmarks"] = [str(p) for p in self.benchmarks]
        out["code_feedback"] = [str(p) for p in self.code_feedback]
        for name in ("jobs", "scheduler", "workers", "skip_bad_shards"):
            out.pop(name)  # how the run was executed, not what it produces
        return out
