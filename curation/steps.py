"""The steps of `curate()`, in order: each one a stage of the pipeline, reading the flow
and the run and returning the new flow with its stage record.

    analyse (per shard, parallel) -> decide (global, narrow columns: ran ok, usable image,
    exact, near-code and near-image dedup, balance caps) -> split -> pair instructions
    (per shard, parallel; LLM optional) -> decontaminate -> repair dialogues (grid) and
    imported dialogues -> write (shuffle into sorted shards)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from functools import partial, wraps

import polars as pl
from viscode.curation.analyse import AnalyseTask, analyse_shard
from viscode.curation.decide import (
    balance_caps,
    check_ids,
    exact_dedup,
    index_rows,
    near_duplicate_code,
    near_duplicate_image,
    ran_ok,
    usable_image,
)
from viscode.curation.dialogues import leak_free, repair_dialogues, repair_parts
from viscode.curation.llm import InstructionWriter
from viscode.curation.pairing import FinishTask, PairTask, finish_part, rewrite_with_llm, rules_part
from viscode.curation.rows import imported_rows, with_split
from viscode.curation.run import Flow, Run, Step
from viscode.curation.stages import Stage
from viscode.curation.write import FillTask, assign, buckets_in, fill, merge, write_part
from viscode.grid.job import job_digest

KeptStep = Callable[[pl.DataFrame, Flow, Run], tuple[pl.DataFrame, Stage | None]]


def on_kept(step: KeptStep) -> Step:
    """A step over the kept snippets alone; nothing to do when no result shard was analysed."""
    @wraps(step)
    def apply(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
        if flow.kept is None:
            return flow, None
        kept, stage = step(flow.kept, flow, run)
        return replace(flow, kept=kept), stage
    return apply


def analyse(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Analyse every result shard; a stage only when bad shards were skipped."""
    index = tuple(run.work / "index" / f"{i:06d}.parquet" for i in range(len(run.shards)))
    tasks = [AnalyseTask(s, p, run.config.image_bounds, run.config.minhash)
             for s, p in zip(run.shards, index, strict=True)]
    rows = sum(run.workers.map(analyse_shard, tasks, "analyse"))
    lost = sum(b.rows for b in run.bad)
    stage = Stage("verified shards", rows + lost, rows, {"bad_shard": lost}) if run.bad else None
    return replace(flow, index=index, input_rows=rows + lost), stage


def ran(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Rows that ran ok; ids are checked first, before any row is kept."""
    if not flow.index:
        return flow, None
    index = index_rows(list(flow.index))
    check_ids(index)
    return flow, ran_ok(index)


def usable(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Rows that drew a usable image: from here on the kept snippets are a frame of narrow columns."""
    if not flow.index:
        return flow, None
    kept, stage = usable_image(index_rows(list(flow.index)))
    return replace(flow, kept=kept), stage


@on_kept
def exact(kept: pl.DataFrame, flow: Flow, run: Run) -> tuple[pl.DataFrame, Stage | None]:
    return exact_dedup(kept)


@on_kept
def near_code(kept: pl.DataFrame, flow: Flow, run: Run) -> tuple[pl.DataFrame, Stage | None]:
    return near_duplicate_code(kept, index_rows(list(flow.index)), run.config.minhash)


@on_kept
def near_image(kept: pl.DataFrame, flow: Flow, run: Run) -> tuple[pl.DataFrame, Stage | None]:
    return near_duplicate_image(kept, run.config.phash_distance)


@on_kept
def caps(kept: pl.DataFrame, flow: Flow, run: Run) -> tuple[pl.DataFrame, Stage | None]:
    return balance_caps(kept, run.config.caps)


@on_kept
def split(kept: pl.DataFrame, flow: Flow, run: Run) -> tuple[pl.DataFrame, Stage | None]:
    return with_split(kept, run.config.val_fraction), None


def instructions(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Rule-based instructions for the kept snippets, one part per result shard that has any."""
    if flow.kept is None:
        return flow, None
    by_shard = flow.kept.select("shard", "order", "split").partition_by("shard", as_dict=True, include_key=False)
    having = [(path, shard) for path, shard in zip(flow.index, run.shards, strict=True) if (shard.key,) in by_shard]
    tasks = [PairTask(path, by_shard[(shard.key,)], run.work / "paired" / path.name) for path, shard in having]
    run.workers.map(rules_part, tasks, "instructions")
    paired = tuple((task.out_path, shard) for task, (_, shard) in zip(tasks, having, strict=True))
    return replace(flow, paired=paired), None


def llm_instructions(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """The LLM's instructions in place of the rules' where it answers (only when asked for)."""
    llm = run.config.llm
    if flow.kept is None or llm is None:
        return flow, None
    writer = InstructionWriter(llm)
    for n, (path, _) in enumerate(flow.paired, 1):
        rewrite_with_llm(path, writer)
        run.workers.report("llm instructions", n, len(flow.paired))
    stats = writer.stats
    run.runs["llm"] = {"model": llm.model, "requests": stats.requests, "cache_hits": stats.cache_hits,
                       "retries": stats.retries, "fallbacks": stats.fallbacks,
                       "failures": dict(sorted(stats.failures.items()))}
    return flow, None


def decontaminate(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Drop rows overlapping a benchmark task and write the single rows; keeps the repair sample."""
    if flow.kept is None:
        return flow, None
    config = run.config
    finish = [FinishTask(path, run.work / "rows" / path.name, run.benchmark, config.decontam_threshold,
                         config.repair_fraction, {shard.key: str(shard.path)}, {shard.key: shard.grid_job})
              for path, shard in flow.paired]
    results = run.workers.map(finish_part, finish, "decontaminate")
    leaked = sum(n for n, _ in results)
    samples = [s for _, s in results if s.height]
    height = flow.kept.height
    return (replace(flow, parts=flow.parts + tuple(f.rows_path for f in finish),
                    sample=pl.concat(samples) if samples else None),
            Stage("benchmark decontamination", height, height - leaked, {"benchmark_overlap": leaked}))


def repairs(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Grid-verified repair dialogues for the sample. The process pool closes first when the
    repair grid runs its own cluster here: both holding memory at once is what to avoid."""
    if flow.sample is None:
        return flow, None
    config = run.config
    if config.scheduler is None:
        run.workers.close()
    dialogues, stage = repair_dialogues(flow.sample, workdir=run.work, settings=config.repair_settings,
                                        scheduler=config.scheduler, workers=config.workers, on_update=run.on_grid)
    grid = run.work / "repair-grid" / "manifest.json"
    if grid.exists():  # the run that produced the dialogues' tracebacks; its folder goes with .work
        job = json.loads(grid.read_text())
        run.runs["repair_grid"] = {"job": job_digest(job["job"]), "settings": job["job"]["settings"],
                                   "variants": job["rows"], "status_counts": job["status_counts"]}
    return replace(flow, parts=flow.parts + repair_parts(dialogues, run.shards, run.work / "rows")), stage


def imported(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Imported dialogues that overlap no benchmark task, as one part."""
    if run.imported is None:
        return flow, None
    clean, stage = leak_free(*run.imported, run.benchmark, run.config.decontam_threshold)
    if not clean.height:
        return flow, stage
    part = write_part(imported_rows(clean, run.config.val_fraction), run.work / "rows" / "imported.parquet")
    return replace(flow, parts=(*flow.parts, part)), stage


def write(flow: Flow, run: Run) -> tuple[Flow, Stage | None]:
    """Every part's rows, images attached, shuffled into sorted shards under work/out."""
    if not flow.parts:
        return flow, None
    work, workers = run.work, run.workers
    parts = list(flow.parts)
    assignments = assign(parts, run.config.shard_rows, work / "assignment")
    buckets = work / "buckets"
    workers.map(fill, [FillTask(p, a, buckets) for p, a in zip(parts, assignments, strict=True)], "gather images")
    return replace(flow, written=tuple(workers.map(partial(merge, output=run.out), buckets_in(buckets),
                                                   "write shards"))), None


STEPS: tuple[Step, ...] = (analyse, ran, usable, exact, near_code, near_image, caps, split,
                           instructions, llm_instructions, decontaminate, repairs, imported, write)
