"""Per-shard analysis: everything curation needs to know about a result row that takes
Python work (image decoding, tokenizing, AST tags, MinHash), written as a narrow index
without PNG bytes. Shards are independent, so this part runs in parallel processes and
the global decisions after it touch only small columns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from viscode.curation.images import ImageBounds, check_png
from viscode.curation.minhash import MinHashConfig, signatures
from viscode.curation.source import OPTIONAL, ResultShard
from viscode.curation.tags import tag

from viscode.codetext import normalize
from viscode.shards import write_parquet

BATCH_ROWS = 256  # rows decoded at a time: bounds a worker's memory to a few PNG-heavy batches

INDEX_SCHEMA = pa.schema([
    ("shard", pa.string()), ("row", pa.int64()), ("id", pa.string()), ("code", pa.string()),
    ("source", pa.string()), ("licence", pa.string()), ("reason", pa.string()), ("image_index", pa.int32()),
    ("image_phash", pa.string()), ("code_key", pa.string()), ("library", pa.string()),
    ("chart_kinds", pa.list_(pa.string())), ("data_origin", pa.string()), ("signature", pa.list_(pa.uint32())),
])
CHECKS = {"reason": pl.String, "image_index": pl.Int32, "image_phash": pl.String}


@dataclass(frozen=True, slots=True)
class AnalyseTask:
    shard: ResultShard
    index_path: Path
    bounds: ImageBounds
    minhash: MinHashConfig


def _first_usable(images: list[dict], bounds: ImageBounds) -> tuple[str | None, int | None, str | None]:
    """(reason, image index, pHash): the first image that passes, else why the first one failed."""
    first_reason = "no_image"
    for i, image in enumerate(images or ()):
        check = check_png(image["png"], image["artists"], bounds)
        if check.reason is None:
            return None, i, check.phash
        if i == 0:
            first_reason = check.reason
    return first_reason, None, None


def _image_checks(batch: pl.DataFrame, bounds: ImageBounds) -> pl.DataFrame:
    """Reason, image index and pHash of every row; only the rows that ran ok have their PNGs
    brought into Python and decoded."""
    ran = batch.filter(pl.col("status") == "ok")
    found = pl.DataFrame([_first_usable(images, bounds) for images in ran["images"].to_list()],
                         schema=CHECKS, orient="row").with_columns(ran["row"])
    failed = pl.lit("status_") + pl.col("status")
    return (batch.select("row", "status").join(found, on="row", how="left")
            .select("row", pl.when(pl.col("status") == "ok").then("reason").otherwise(failed).alias("reason"),
                    "image_index", "image_phash"))


def _describe_code(rows: pl.DataFrame, config: MinHashConfig) -> pl.DataFrame:
    """Exact-dedup key, tags and MinHash signature of rows that passed the image checks."""
    codes = rows["code"].to_list()
    normalized = [normalize(code) for code in codes]
    tags = [tag(code) for code in codes]
    return rows.select("row").with_columns(
        pl.Series("code_key", [hashlib.sha256(n.encode("utf-8", "surrogatepass")).hexdigest() for n in normalized],
                  dtype=pl.String),
        pl.Series("library", [t.library for t in tags], dtype=pl.String),
        pl.Series("chart_kinds", [list(t.chart_kinds) for t in tags], dtype=pl.List(pl.String)),
        pl.Series("data_origin", [t.data_origin for t in tags], dtype=pl.String),
        pl.Series("signature", signatures(normalized, config)).cast(pl.List(pl.UInt32)))


def _index_batch(batch: pl.DataFrame, task: AnalyseTask) -> pl.DataFrame:
    rows = (batch.select(pl.lit(task.shard.key).alias("shard"), "row", "id", "code",
                         *[pl.col(c) if c in batch.columns else pl.lit(None, pl.String).alias(c) for c in OPTIONAL])
            .join(_image_checks(batch, task.bounds), on="row", how="left"))
    described = _describe_code(rows.filter(pl.col("reason").is_null()), task.minhash)
    return rows.join(described, on="row", how="left").sort("row")


def analyse_shard(task: AnalyseTask) -> int:
    """Write the index rows of one shard; returns how many rows it had."""
    columns = ["id", "code", "status", "images", *task.shard.columns]
    index, offset = [], 0
    for batch in pq.ParquetFile(task.shard.path).iter_batches(batch_size=BATCH_ROWS, columns=columns):
        rows = pl.from_arrow(batch).with_row_index("row", offset).with_columns(pl.col("row").cast(pl.Int64))
        index.append(_index_batch(rows, task))
        offset += batch.num_rows
    table = (pl.concat(index).select(INDEX_SCHEMA.names).to_arrow().cast(INDEX_SCHEMA) if index
             else INDEX_SCHEMA.empty_table())
    write_parquet(table, task.index_path)
    return table.num_rows
