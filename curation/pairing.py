"""Pairing kept code with its five-part instruction, then dropping rows whose code or
instruction overlaps a benchmark task.

The rule-based instruction comes first for every row (it is also the fallback and the
hint of facts for an LLM); an LLM, when asked for, rewrites it; decontamination looks
at the final text, so a leak an LLM introduces is caught too. The per-part steps run
in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from viscode.curation.decide import ORDER
from viscode.curation.decontam import BenchmarkIndex
from viscode.curation.instructions import PARTS, Instruction, describe
from viscode.curation.llm import InstructionWriter
from viscode.curation.rows import sampled, single_turns, snippet_rows
from viscode.curation.tags import Tags

from viscode.shards import write_parquet


@dataclass(frozen=True, slots=True)
class PairTask:
    index_path: Path
    survivors: pl.DataFrame   # order, split of this part's surviving rows
    out_path: Path


def rules_part(task: PairTask) -> int:
    """Rule-based instructions for one index part's survivors; returns rows written."""
    rows = (pl.read_parquet(task.index_path)
            .with_columns(ORDER.alias("order"))
            .join(task.survivors, on="order", how="inner").drop("signature", "reason", "code_key").sort("order"))
    instructions = [describe(code, Tags(lib, tuple(kinds), origin)) for code, lib, kinds, origin in
                    rows.select("code", "library", "chart_kinds", "data_origin").iter_rows()]
    table = rows.with_columns(
        *[pl.Series(p, [getattr(i, p) for i in instructions], dtype=pl.String) for p in PARTS],
        pl.lit("rules").alias("instruction_source"))
    write_parquet(table.to_arrow(), task.out_path)
    return table.height


def rewrite_with_llm(path: Path, writer: InstructionWriter) -> None:
    """Replace one part's rule-based instructions with the LLM's (rules stay where it failed)."""
    frame = pl.read_parquet(path)
    results = writer.write_all([(order, code, Instruction(*parts))
                                for order, code, *parts in frame.select("order", "code", *PARTS).iter_rows()])
    frame = frame.with_columns(
        *[pl.Series(p, [getattr(inst, p) for inst, _ in results], dtype=pl.String) for p in PARTS],
        pl.Series("instruction_source", [source for _, source in results], dtype=pl.String))
    write_parquet(frame.to_arrow(), path)


@dataclass(frozen=True, slots=True)
class FinishTask:
    paired_path: Path
    rows_path: Path
    benchmark: BenchmarkIndex
    threshold: float
    repair_fraction: float
    paths: dict[str, str]    # result shard key -> path, where the writer finds each row's PNG
    jobs: dict[str, str]     # result shard key -> grid job fingerprint


def finish_part(task: FinishTask) -> tuple[int, pl.DataFrame]:
    """Drop rows overlapping a benchmark task, write the part's single rows, and return
    how many were dropped plus the part's sample for repair dialogues."""
    frame = pl.read_parquet(task.paired_path)
    texts = [Instruction(*parts).text() for parts in frame.select(*PARTS).iter_rows()]
    leaked = pl.Series(task.benchmark.leaks(list(zip(texts, frame["code"].to_list(), strict=True)), task.threshold),
                       dtype=pl.Boolean)
    frame = (frame.with_columns(pl.Series("instruction", texts, dtype=pl.String)).filter(~leaked)
             .with_columns(pl.lit("single").alias("kind"), pl.col("id").alias("snippet_id"),
                           pl.lit(None, pl.String).alias("fault")))
    frame = frame.with_columns(single_turns())
    write_parquet(snippet_rows(frame, task.paths, task.jobs).to_arrow(), task.rows_path)
    return int(leaked.sum()), sampled(frame, "repair", task.repair_fraction)
