"""How one curation run is composed: steps that each take the flow (what the steps
before them produced) and return it with their stage record, like datatrove's readers,
filters and writers, plus the run they share (settings, work folder, process pool,
progress, and what the run records for the manifest). Adding a filter is adding a step."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Self

import polars as pl
from viscode.curation.config import CurationConfig
from viscode.curation.decontam import BenchmarkIndex
from viscode.curation.source import BadShard, ResultShard
from viscode.curation.stages import Stage
from viscode.grid.job import GridState

from viscode.progress import Progress


class Workers:
    """One process pool for the parallel steps of a run, so workers import the curation
    modules once; steps report each finished task. `close` frees the pool's memory before
    a step that needs it elsewhere (the repair grid's cluster); the next `map` opens a new one."""

    def __init__(self, jobs: int, on_progress: Progress | None) -> None:
        self.jobs = jobs
        self.on_progress = on_progress
        self.pool: ProcessPoolExecutor | None = None

    def map(self, fn, tasks: list, step: str) -> list:
        if self.pool is None and self.jobs > 1 and len(tasks) > 1:
            self.pool = ProcessPoolExecutor(self.jobs, mp_context=get_context("spawn"))
        mapped: Iterable = self.pool.map(fn, tasks) if self.pool and len(tasks) > 1 else map(fn, tasks)
        results = []
        for n, result in enumerate(mapped, 1):
            results.append(result)
            self.report(step, n, len(tasks))
        return results

    def report(self, step: str, done: int, total: int) -> None:
        if self.on_progress:
            self.on_progress(step, done, total)

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(slots=True)
class Run:
    """What every step of one run shares; `runs` collects what the LLM and the repair grid did."""
    config: CurationConfig
    work: Path
    shards: list[ResultShard]
    bad: list[BadShard]
    benchmark: BenchmarkIndex
    imported: tuple[pl.DataFrame, Stage] | None   # Code-Feedback dialogues and their import stage
    workers: Workers
    on_grid: Callable[[GridState], None] | None = None
    runs: dict = field(default_factory=dict)

    @property
    def out(self) -> Path:
        """Where the new shards, manifest and card are staged before they are published."""
        return self.work / "out"


@dataclass(frozen=True, slots=True)
class Flow:
    """What the steps so far produced, handed to the next."""
    index: tuple[Path, ...] = ()                       # one analysed index per result shard
    input_rows: int = 0                                # grid rows in, bad shards' rows included
    kept: pl.DataFrame | None = None                   # kept snippets, narrow columns; None: nothing analysed
    paired: tuple[tuple[Path, ResultShard], ...] = ()  # kept snippets with instructions, per result shard
    sample: pl.DataFrame | None = None                 # kept snippets that get a repair dialogue
    parts: tuple[Path, ...] = ()                       # curated rows ready for the writer
    written: tuple[dict, ...] = ()                     # manifest entries of the written shards


Step = Callable[[Flow, Run], tuple[Flow, Stage | None]]  # None: the step filters nothing


def run_steps(steps: Sequence[Step], run: Run) -> tuple[Flow, list[Stage]]:
    """Every step in order, from an empty flow; returns the last flow and the stage records."""
    flow, stages = Flow(), []
    for step in steps:
        flow, stage = step(flow, run)
        if stage is not None:
            stages.append(stage)
    return flow, stages
