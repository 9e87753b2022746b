"""`curate()`: grid result shards in, verified, deduplicated, instruction-paired shards out,
by running the steps of `viscode.curation.steps` in order (see there).

Intermediate files live in DIR/.work and are removed at the end; the manifest is
written last, so a folder with a manifest is a finished curation.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import IO

import polars as pl
from viscode.curation.card import write_card
from viscode.curation.config import CurationConfig
from viscode.curation.decontam import DEFAULT_BENCHMARK, build_index, load_benchmark_texts
from viscode.curation.dialogues import feedback_dialogues
from viscode.curation.run import Run, Workers, run_steps
from viscode.curation.schema import CURATED_SCHEMA_VERSION, MANIFEST_KIND, SPLITS, row_totals
from viscode.curation.source import open_grid_outputs
from viscode.curation.stages import Stage
from viscode.curation.steps import STEPS
from viscode.grid.job import GridState

from viscode.errors import InputError
from viscode.progress import Progress
from viscode.shards import check, claim, lock_folder, manifest_of, remove_orphan_temps, write_json

WORK = ".work"
OWNED = (*SPLITS, "card", "card.md", "manifest.json", WORK)  # what a curation writes in its folder
DEFAULT_CONFIG = CurationConfig()


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


def _claim(output: Path, inputs: list[Path], identity: dict, force: bool) -> IO[str]:
    """Make `output` ours for this run: never inside a grid output, never another stage's folder
    (even with --force: its files are not ours to remove), one run at a time, and a folder of
    other settings or other files only with --force. Returns the held lock."""
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
    check(output, identity, force=force, what="curated dataset")  # before the folder exists: a refusal writes nothing
    lock = lock_folder(output)
    try:
        claim(output, identity, force=force, what="curated dataset", owned=OWNED)
    except BaseException:
        lock.close()
        raise
    shutil.rmtree(output / WORK, ignore_errors=True)  # a crashed run's leftovers
    remove_orphan_temps(output)
    return lock


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


def curate(inputs: list[str | Path], output: str | Path, config: CurationConfig = DEFAULT_CONFIG, *,
           force: bool = False, on_progress: Progress | None = None,
           on_grid: Callable[[GridState], None] | None = None) -> CurationReport:
    """Curate grid outputs into `output` by running `STEPS`; see the module docstring.
    Raises ValueError for bad input, before anything is written."""
    started = time.monotonic()
    output = Path(output)
    shards, bad = open_grid_outputs([Path(p) for p in inputs], skip_bad=config.skip_bad_shards)
    if not any(s.rows for s in shards) and not config.code_feedback:
        raise InputError(f"{', '.join(map(str, inputs))}: no result rows to curate")
    benchmark = build_index(load_benchmark_texts([DEFAULT_BENCHMARK, *config.benchmarks]))
    imported = (feedback_dialogues(list(config.code_feedback), config.feedback_filter)
                if config.code_feedback else None)
    identity = {"grid_jobs": sorted({s.grid_job for s in shards}), "config": config.to_json()}
    lock = _claim(output, [Path(p) for p in inputs], identity, force)
    work = output / WORK
    try:
        with Workers(config.jobs, on_progress) as workers:
            run = Run(config, work, shards, bad, benchmark, imported, workers, on_grid)
            flow, stages = run_steps(STEPS, run)
        written = list(flow.written)
        manifest = _manifest(inputs, shards, stages, written, config, run.out, run.runs)
        write_card(run.out, manifest, _contact_samples(run.out, written), manifest["distributions"])
        _publish(run.out, output, manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.close()
    return CurationReport(output, stages, written, flow.input_rows, time.monotonic() - started)


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
    return manifest_of(
        MANIFEST_KIND, CURATED_SCHEMA_VERSION, written,
        inputs=[str(p) for p in inputs], grid_jobs=sorted({s.grid_job for s in shards}), counts=row_totals(written),
        stages=[s.to_json() for s in stages], **runs,
        dedup={"keep_rule": "the smallest (snippet id, grid job, shard, row) of each group",
               "exact": "sha256 of the tokenizer-normalized code",
               "near_code": {"method": "MinHash-LSH over token shingles", **asdict(config.minhash)},
               "near_image": {"method": "pHash-8 Hamming distance", "max_distance": config.phash_distance}},
        split={"method": "sha256 of the snippet id", "val_fraction": config.val_fraction},
        distributions=distributions, licences=distributions["licence"],
        config=config.to_json(),
        versions={name: version(name) for name in ("viscode", "polars", "pyarrow", "pillow", "numpy")})
