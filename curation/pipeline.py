"""`curate()`: grid result shards in, verified, deduplicated, instruction-paired shards out.

    analyse (per shard, parallel) -> decide (global, narrow columns) -> pair instructions
    (per shard, parallel; LLM optional) -> decontaminate -> repair dialogues (grid) and
    imported dialogues -> write (shuffle into sorted shards) -> manifest + card

Intermediate files live in DIR/.work and are removed at the end; the manifest is
written last, so a folder with a manifest is a finished curation.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path
from typing import Self

import polars as pl
from viscode.curation.analyse import AnalyseTask, analyse_shard
from viscode.curation.card import write_card
from viscode.curation.code_feedback import FeedbackFilter
from viscode.curation.decide import Caps, decide
from viscode.curation.decontam import (
    DEFAULT_BENCHMARK,
    DEFAULT_THRESHOLD,
    BenchmarkIndex,
    build_index,
    load_benchmark_texts,
)
from viscode.curation.dialogues import feedback_dialogues, repair_dialogues
from viscode.curation.images import ImageBounds
from viscode.curation.llm import InstructionWriter, LLMConfig
from viscode.curation.minhash import MinHashConfig
from viscode.curation.pairing import FinishTask, PairTask, finish_part, rewrite_with_llm, rules_part
from viscode.curation.rows import imported_rows, snippet_rows, with_split
from viscode.curation.schema import CURATED_SCHEMA_VERSION, MANIFEST_KIND, SPLITS, row_totals
from viscode.curation.source import ResultShard, open_grid_outputs
from viscode.curation.stages import Stage
from viscode.curation.write import FillTask, assign, buckets_in, fill, merge
from viscode.grid.executor import SandboxSettings
from viscode.grid.job import GridState, job_digest

from viscode.errors import InputError
from viscode.shards import remove_orphan_temps, write_json, write_parquet

WORK, LOCK = ".work", ".curate.lock"
Progress = Callable[[str, int, int], None]  # (step, done, total)


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


@dataclass(slots=True)
class CurationReport:
    output: Path
    stages: list[Stage]
    shards: list[dict]
    input_rows: int
    wall_s: float

    @property
    def rows(self) -> dict[str, int]:
        totals = row_totals(self.shards)
        return {split: totals[split] for split in SPLITS}


def _claim(output: Path, inputs: list[Path], force: bool) -> tuple[Path, int]:
    """Make `output` ours for this run: never a grid output, never another kind of folder,
    a finished curation only with --force, one run at a time (flock). Returns the work
    folder and the lock's file descriptor."""
    where = output.absolute()
    for folder in inputs:
        folder = folder.absolute()
        if where == folder or folder in where.parents or where in folder.parents:
            raise InputError(f"{output}: the output folder must be outside the grid outputs ({folder})")
    manifest = output / "manifest.json"
    if manifest.exists():
        try:
            kind = json.loads(manifest.read_text()).get("kind")
        except (OSError, ValueError, AttributeError):
            kind = None
        if kind != MANIFEST_KIND:
            raise InputError(f"{output}: holds something else (manifest kind {kind!r}); choose another folder")
        if not force:
            raise InputError(f"{output}: already holds a curated dataset; pass --force to replace it")
    elif output.is_dir() and any(p.name not in (WORK, LOCK) for p in output.iterdir()) and not force:
        raise InputError(f"{output}: not empty; choose an empty folder or pass --force")
    try:
        output.mkdir(parents=True, exist_ok=True)
        lock = os.open(output / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"{output}: cannot write the output folder ({exc.strerror or exc})") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise InputError(f"{output}: another `viscode curate` is writing here") from None
    shutil.rmtree(output / WORK, ignore_errors=True)  # a crashed run's leftovers
    remove_orphan_temps(output)
    return output / WORK, lock


def _publish(staged: Path, output: Path, manifest: dict) -> None:
    """Swap the new dataset in: the old manifest goes first and the new one comes last, so
    a crash in between leaves a folder without a manifest (unfinished), never a mix."""
    (output / "manifest.json").unlink(missing_ok=True)
    for name in (*SPLITS, "card", "card.md"):
        old = output / name
        if old.is_dir():
            shutil.rmtree(old)
        old.unlink(missing_ok=True)
        if (staged / name).exists():
            (staged / name).rename(old)
    write_json(manifest, output / "manifest.json")


class Workers:
    """One process pool for every parallel step of a run, so workers import the
    curation modules once; steps report each finished task."""

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
            if self.on_progress:
                self.on_progress(step, n, len(tasks))
        return results

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool:
            self.pool.shutdown(cancel_futures=True)


def curate(inputs: list[str | Path], output: str | Path, config: CurationConfig = CurationConfig(), *,
           force: bool = False, on_progress: Progress | None = None,
           on_grid: Callable[[GridState], None] | None = None) -> CurationReport:
    """Curate grid outputs into `output`; see the module docstring for the steps.
    Raises ValueError for bad input, before anything is written."""
    started = time.monotonic()
    output = Path(output)
    shards, bad = open_grid_outputs([Path(p) for p in inputs], skip_bad=config.skip_bad_shards)
    if not any(s.rows for s in shards) and not config.code_feedback:
        raise InputError(f"{', '.join(map(str, inputs))}: no result rows to curate")
    benchmark = build_index(load_benchmark_texts([DEFAULT_BENCHMARK, *config.benchmarks]))
    imported, import_stage = (feedback_dialogues(list(config.code_feedback), config.feedback_filter)
                              if config.code_feedback else (None, None))
    work, lock = _claim(output, [Path(p) for p in inputs], force)
    try:
        runs: dict = {}  # what the LLM and the repair grid did, for the manifest
        stages, written, input_rows = _run(shards, bad, benchmark, imported, import_stage, config, work,
                                           on_progress, on_grid, runs)
        staged = work / "out"
        manifest = _manifest(inputs, shards, stages, written, config, staged, runs)
        write_card(staged, manifest, _contact_samples(staged, written), manifest["distributions"])
        _publish(staged, output, manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.close(lock)
    return CurationReport(output, stages, written, input_rows, time.monotonic() - started)


def _run(shards: list[ResultShard], bad: list, benchmark: BenchmarkIndex, imported: pl.DataFrame | None,
         import_stage: Stage | None, config: CurationConfig, work: Path, on_progress: Progress | None,
         on_grid: Callable[[GridState], None] | None, runs: dict) -> tuple[list[Stage], list[dict], int]:
    """Every step, writing the new shards under work/out; returns stages, shard entries and input rows."""
    stages: list[Stage] = []
    parts: list[Path] = []
    with Workers(config.jobs, on_progress) as workers:
        index = [work / "index" / f"{i:06d}.parquet" for i in range(len(shards))]
        input_rows = sum(workers.map(analyse_shard, [AnalyseTask(s, p, config.image_bounds, config.minhash)
                                                     for s, p in zip(shards, index, strict=True)], "analyse"))
        lost = sum(b.rows for b in bad)
        if bad:
            stages.append(Stage("verified shards", input_rows + lost, input_rows, {"bad_shard": lost}))
        if index:
            survivors, decided = decide(index, minhash=config.minhash, phash_distance=config.phash_distance,
                                        caps=config.caps)
            stages += decided
            parts, sample = _pair(with_split(survivors, config.val_fraction), index, shards, stages, benchmark,
                                  config, work, workers, runs)
            if sample.height:
                parts += _repairs(sample, stages, config, work, on_grid, shards, runs)
        if imported is not None:
            parts += _imports(imported, import_stage, stages, benchmark, config, work)
        written = _write(parts, work / "out", work, config, workers)
    return stages, written, input_rows + lost


def _keys(shards: list[ResultShard]) -> tuple[dict[str, str], dict[str, str]]:
    """Result shard key -> its path, and -> its grid job."""
    return {s.key: str(s.path) for s in shards}, {s.key: s.grid_job for s in shards}


def _pair(survivors: pl.DataFrame, index: list[Path], shards: list[ResultShard], stages: list[Stage],
          benchmark: BenchmarkIndex, config: CurationConfig, work: Path,
          workers: Workers, runs: dict) -> tuple[list[Path], pl.DataFrame]:
    """Instructions and decontamination, part by part; returns the single-row parts and
    the sample of kept snippets that get repair dialogues."""
    by_shard = survivors.select("shard", "order", "split").partition_by("shard", as_dict=True, include_key=False)
    kept = [(path, shard, by_shard[(shard.key,)]) for path, shard in zip(index, shards, strict=True)
            if (shard.key,) in by_shard]
    tasks = [PairTask(path, part, work / "paired" / path.name) for path, _, part in kept]
    workers.map(rules_part, tasks, "instructions")
    if config.llm:
        writer = InstructionWriter(config.llm)
        for n, task in enumerate(tasks, 1):
            rewrite_with_llm(task.out_path, writer)
            if workers.on_progress:
                workers.on_progress("llm instructions", n, len(tasks))
        stats = writer.stats
        runs["llm"] = {"model": config.llm.model, "requests": stats.requests, "cache_hits": stats.cache_hits,
                       "retries": stats.retries, "fallbacks": stats.fallbacks,
                       "failures": dict(sorted(stats.failures.items()))}
    finish = [FinishTask(task.out_path, work / "rows" / task.out_path.name, benchmark, config.decontam_threshold,
                         config.repair_fraction, {shard.key: str(shard.path)}, {shard.key: shard.grid_job})
              for task, (_, shard, _) in zip(tasks, kept, strict=True)]
    results = workers.map(finish_part, finish, "decontaminate")
    leaked = sum(n for n, _ in results)
    stages.append(Stage("benchmark decontamination", survivors.height, survivors.height - leaked,
                        {"benchmark_overlap": leaked}))
    samples = [s for _, s in results if s.height]
    return [f.rows_path for f in finish], (pl.concat(samples) if samples else pl.DataFrame())


def _repairs(sample: pl.DataFrame, stages: list[Stage], config: CurationConfig, work: Path,
             on_grid: Callable[[GridState], None] | None, shards: list[ResultShard], runs: dict) -> list[Path]:
    """Repair rows, written in one part per result shard their images come from."""
    repairs, stage = repair_dialogues(sample, workdir=work, settings=config.repair_settings,
                                      scheduler=config.scheduler, workers=config.workers, on_update=on_grid)
    stages.append(stage)
    grid = work / "repair-grid" / "manifest.json"
    if grid.exists():  # the run that produced the dialogues' tracebacks; its folder goes with .work
        job = json.loads(grid.read_text())
        runs["repair_grid"] = {"job": job_digest(job["job"]),
                               "settings": job["job"]["settings"], "variants": job["rows"],
                               "status_counts": job["status_counts"]}
    if repairs is None or not repairs.height:
        return []
    repairs = repairs.with_columns(pl.col("id").alias("snippet_id"), ("repair-" + pl.col("variant_id")).alias("id"),
                                   pl.lit("repair").alias("kind"))
    paths, jobs = _keys(shards)
    return [_write_part(snippet_rows(group.sort("id"), paths, jobs),
                        work / "rows" / f"repair-{Path(paths[shard]).stem}-{jobs[shard][:8]}.parquet")
            for (shard,), group in repairs.group_by("shard")]


def _imports(imported: pl.DataFrame, stage: Stage, stages: list[Stage], benchmark: BenchmarkIndex,
             config: CurationConfig, work: Path) -> list[Path]:
    """Imported dialogues that overlap no benchmark task, as one part."""
    pairs = list(imported.select("instruction", "code").iter_rows())
    leaked = pl.Series(benchmark.leaks(pairs, config.decontam_threshold), dtype=pl.Boolean)
    clean = imported.filter(~leaked)
    stages.append(Stage(stage.name, stage.input, clean.height,
                        {**stage.dropped, "benchmark_overlap": imported.height - clean.height}))
    if not clean.height:
        return []
    return [_write_part(imported_rows(clean, config.val_fraction), work / "rows" / "imported.parquet")]


def _write_part(frame: pl.DataFrame, path: Path) -> Path:
    write_parquet(frame.to_arrow(), path)
    return path


def _write(parts: list[Path], output: Path, work: Path, config: CurationConfig, workers: Workers) -> list[dict]:
    if not parts:
        return []
    assignments = assign(parts, config.shard_rows, work / "assignment")
    buckets = work / "buckets"
    workers.map(fill, [FillTask(p, a, buckets) for p, a in zip(parts, assignments, strict=True)], "gather images")
    return workers.map(partial(merge, output=output), buckets_in(buckets), "write shards")


def _contact_samples(output: Path, shards: list[dict], n: int = 16) -> list[tuple[str, bytes]]:
    """The first single rows by id of the first train shard: a fixed, reproducible sample."""
    first = next((s for s in shards if s["split"] == "train"), None) or next(iter(shards), None)
    if first is None:
        return []
    rows = (pl.scan_parquet(output / first["name"]).filter(pl.col("kind") == "single")
            .select("id", "image").head(n).collect())
    return list(rows.iter_rows())


def _distributions(output: Path, shards: list[dict]) -> dict[str, dict[str, int]]:
    names = {"library": "library", "chart_kind": "chart_kinds", "kind": "kind", "instruction_source":
             "instruction_source", "licence": "licence"}
    if not shards:
        return {name: {} for name in names}
    rows = pl.scan_parquet([output / s["name"] for s in shards]).select(*names.values())

    def counts(column: str) -> dict[str, int]:
        frame = rows.explode(column) if column == "chart_kinds" else rows
        table = frame.group_by(column).len().collect().sort(column, nulls_last=True)
        return {("unknown" if k is None else k): v for k, v in table.iter_rows()}

    return {name: counts(column) for name, column in names.items()}


def _manifest(inputs: list, shards: list, stages: list[Stage], written: list[dict], config: CurationConfig,
              output: Path, runs: dict) -> dict:
    distributions = _distributions(output, written)
    return {
        "kind": MANIFEST_KIND, "schema_version": CURATED_SCHEMA_VERSION,
        "inputs": [str(p) for p in inputs], "grid_jobs": sorted({s.grid_job for s in shards}),
        "rows": row_totals(written),
        "stages": [s.to_json() for s in stages], **runs,
        "dedup": {"keep_rule": "the smallest (snippet id, grid job, shard, row) of each group",
                  "exact": "sha256 of the tokenizer-normalized code",
                  "near_code": {"method": "MinHash-LSH over token shingles", **asdict(config.minhash)},
                  "near_image": {"method": "pHash-8 Hamming distance", "max_distance": config.phash_distance}},
        "split": {"method": "sha256 of the snippet id", "val_fraction": config.val_fraction},
        "distributions": distributions, "licences": distributions["licence"],
        "config": config.to_json(),
        "versions": {name: version(name) for name in ("viscode", "polars", "pyarrow", "pillow", "numpy")},
        "shards": written,
    }
