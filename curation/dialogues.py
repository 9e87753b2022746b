"""Multi-turn rows: repair dialogues grounded in real execution, and imported
Code-Feedback dialogues.

A repair variant is kept only if the grid really ran it and it failed: the traceback
in the dialogue is the one the sandbox recorded, never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
from viscode.curation.code_feedback import FeedbackFilter, read_code_feedback
from viscode.curation.decontam import BenchmarkIndex
from viscode.curation.repair import dialogue, variants
from viscode.curation.rows import MESSAGES, snippet_rows
from viscode.curation.source import ResultShard
from viscode.curation.stages import Stage
from viscode.curation.tags import tag
from viscode.curation.write import write_part
from viscode.grid.executor import SandboxSettings
from viscode.grid.job import GridState, run_grid

from viscode.codetext import code_id
from viscode.shards import write_parquet


def repair_dialogues(sample: pl.DataFrame, *, workdir: Path, settings: SandboxSettings, scheduler: str | None,
                     workers: int | None, on_update: Callable[[GridState], None] | None = None,
                     ) -> tuple[pl.DataFrame | None, Stage]:
    """Repair rows for kept snippets (rows with order, id, code and instruction).

    Returns rows with the snippet's columns plus `variant_id`, `fault` (replaced),
    `faulty` and `messages` (replaced), or None when no snippet had a variant, and the
    stage: snippets in, dialogues kept, the rest by reason."""
    made: dict[str, dict] = {}
    none = 0
    for order, source_id, code in sample.select("order", "id", "code").iter_rows():
        found = variants(code, source_id)  # one variant per snippet
        none += not found
        for v in found:  # two snippets may break into the same program: the first by order keeps it
            made.setdefault(v.id, {"id": v.id, "code": v.code, "source": f"repair:{v.fault}:{source_id}",
                                   "origin": order, "fault": v.fault})
    dropped = {"no_variant": none, "duplicate_variant": sample.height - none - len(made)}
    if not made:
        return None, Stage("repair dialogues", sample.height, 0, dropped)
    variant_file = workdir / "repair-input" / "variants.parquet"
    write_parquet(pa.Table.from_pylist(sorted(made.values(), key=lambda m: m["id"])), variant_file)
    grid = workdir / "repair-grid"
    run_grid([str(variant_file)], grid, settings=settings, scheduler=scheduler, workers=workers, force=True,
             on_update=on_update)
    ran = (pl.scan_parquet(grid / "results" / "*.parquet")
           .select(pl.col("id").alias("variant_id"), pl.col("code").alias("faulty"), "origin", "fault", "status",
                   pl.when(pl.col("traceback").str.len_chars() > 0).then("traceback")
                   .otherwise(pl.concat_str(["error_type", "error_message"], separator=": ")).alias("error"))
           .collect())
    dropped |= {f"variant_{status}": n for status, n in ran.group_by("status").len().iter_rows() if status != "error"}
    rows = (ran.filter(pl.col("status") == "error")
            .join(sample.drop("fault", "messages"), left_on="origin", right_on="order", how="inner")
            .sort("variant_id"))
    rows = rows.with_columns(pl.Series("messages", [
        dialogue(inst, faulty, error, code)
        for inst, faulty, error, code in rows.select("instruction", "faulty", "error", "code").iter_rows()],
        dtype=MESSAGES))
    return rows, Stage("repair dialogues", sample.height, rows.height, dropped)


def repair_parts(dialogues: pl.DataFrame | None, shards: list[ResultShard], folder: Path) -> tuple[Path, ...]:
    """Repair rows as curated rows, written in one part per result shard their images come from."""
    if dialogues is None or not dialogues.height:
        return ()
    rows = dialogues.with_columns(pl.col("id").alias("snippet_id"), ("repair-" + pl.col("variant_id")).alias("id"),
                                  pl.lit("repair").alias("kind"))
    paths, jobs = {s.key: str(s.path) for s in shards}, {s.key: s.grid_job for s in shards}
    return tuple(write_part(snippet_rows(group.sort("id"), paths, jobs),
                            folder / f"repair-{Path(paths[shard]).stem}-{jobs[shard][:8]}.parquet")
                 for (shard,), group in rows.group_by("shard"))


def feedback_dialogues(paths: list[Path], flt: FeedbackFilter) -> tuple[pl.DataFrame, Stage]:
    """Imported Code-Feedback dialogues, tagged like the rest; counts per filter reason."""
    records: list[dict] = []
    dropped: dict[str, int] = {}
    for path in paths:
        kept, counts = read_code_feedback(Path(path), flt)
        records.extend(kept)
        for reason, n in counts.items():
            if reason != "kept":
                dropped[reason] = dropped.get(reason, 0) + n
    rows = {}
    for record in sorted(records, key=lambda r: r["source"]):  # of identical dialogues the first source keeps it
        row_id = "feedback-" + code_id(json.dumps(record["messages"], sort_keys=True))
        if row_id in rows:
            dropped["duplicate_dialogue"] = dropped.get("duplicate_dialogue", 0) + 1
            continue
        tags = tag(record["code"])
        rows[row_id] = {
            "id": row_id, "source_id": record["source"] if record["id"] is None else str(record["id"]),
            "source": record["source"], "messages": record["messages"], "code": record["code"],
            "instruction": next(m["content"] for m in record["messages"] if m["role"] == "user"),
            "library": tags.library, "chart_kinds": list(tags.chart_kinds), "data_origin": tags.data_origin}
    frame = pl.DataFrame([rows[k] for k in sorted(rows)], schema={
        "id": pl.String, "source_id": pl.String, "source": pl.String, "messages": MESSAGES, "code": pl.String,
        "instruction": pl.String, "library": pl.String, "chart_kinds": pl.List(pl.String), "data_origin": pl.String})
    return frame, Stage("code-feedback import", len(records) + sum(dropped.values()) - dropped.get(
        "duplicate_dialogue", 0), frame.height, dropped)


def leak_free(imported: pl.DataFrame, stage: Stage, benchmark: BenchmarkIndex, threshold: float,
              ) -> tuple[pl.DataFrame, Stage]:
    """Imported dialogues that overlap no benchmark task; the import stage counts the rest."""
    leaked = pl.Series(benchmark.leaks(list(imported.select("instruction", "code").iter_rows()), threshold),
                       dtype=pl.Boolean)
    clean = imported.filter(~leaked)
    return clean, Stage(stage.name, stage.input, clean.height,
                        {**stage.dropped, "benchmark_overlap": imported.height - clean.height})
