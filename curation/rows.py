"""The output columns each kind of curated row carries (image excepted: rows carry
where their PNG lives, and the writer fetches it), plus the stable split and sampling
rules every row kind shares."""

from __future__ import annotations

import polars as pl
from viscode.curation.decide import stable_fraction_of

MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))


def sampled(frame: pl.DataFrame, salt: str, fraction: float) -> pl.DataFrame:
    """The rows whose id falls in a fixed `fraction` for this salt: the same sample every run."""
    return frame.filter(stable_fraction_of("id", salt) < fraction)


def with_split(frame: pl.DataFrame, val_fraction: float) -> pl.DataFrame:
    """Val or train by a digest of the snippet id; repair rows take their snippet's split."""
    return frame.with_columns(pl.when(stable_fraction_of("id", "split") < val_fraction)
                              .then(pl.lit("val")).otherwise(pl.lit("train")).alias("split"))


def code_block(code: pl.Expr) -> pl.Expr:
    """`viscode.selfdebug.code_block` of every value: the code in one python fence, blank
    lines around it dropped."""
    return pl.concat_str(pl.lit("```python\n"), code.str.strip_chars("\n"), pl.lit("\n```"))


def turn(role: str, content: pl.Expr) -> pl.Expr:
    return pl.struct(pl.lit(role).alias("role"), content.alias("content"))


def single_turns() -> pl.Expr:
    """instruction -> working code, the VisCode-200K conversation layout."""
    return pl.concat_list(turn("user", pl.col("instruction")),
                          turn("assistant", code_block(pl.col("code")))).cast(MESSAGES).alias("messages")


def snippet_rows(frame: pl.DataFrame, paths: dict[str, str], jobs: dict[str, str]) -> pl.DataFrame:
    """Output columns of rows built on a kept snippet (single and repair rows)."""
    return frame.select(
        "id", "kind", "messages", "library", "chart_kinds", "data_origin", "instruction", "instruction_source",
        "code", "image_phash", "fault",
        pl.struct(pl.col("shard").replace_strict(jobs, return_dtype=pl.String).alias("grid_job"),
                  pl.col("shard").str.split("/").list.last().alias("shard"), "row", "snippet_id",
                  "source").alias("provenance"),
        "licence", "split", pl.col("shard").replace_strict(paths, return_dtype=pl.String).alias("ref_shard"),
        pl.col("row").alias("ref_row"), pl.col("image_index").alias("ref_image"))


def imported_rows(frame: pl.DataFrame, val_fraction: float) -> pl.DataFrame:
    """Output columns of imported dialogues: no image, no grid provenance."""
    frame = with_split(frame, val_fraction)
    none = pl.lit(None, pl.String)
    return frame.select(
        "id", pl.lit("repair").alias("kind"), "messages", "library", "chart_kinds", "data_origin", "instruction",
        pl.lit("import").alias("instruction_source"), "code", none.alias("image_phash"), none.alias("fault"),
        pl.struct(none.alias("grid_job"), none.alias("shard"), pl.lit(None, pl.Int64).alias("row"),
                  pl.col("source_id").alias("snippet_id"), "source").alias("provenance"),
        none.alias("licence"), "split", none.alias("ref_shard"), pl.lit(None, pl.Int64).alias("ref_row"),
        pl.lit(None, pl.Int32).alias("ref_image"))
