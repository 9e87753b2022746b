"""Per-shard analysis: everything curation needs to know about a result row that takes
Python work (image decoding, tokenizing, AST tags, MinHash), written as a narrow index
without PNG bytes. Shards are independent, so this part runs in parallel processes and
the global decisions after it touch only small columns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from viscode.curation.images import ImageBounds, check_png
from viscode.curation.minhash import MinHashConfig, signatures
from viscode.curation.source import ResultShard
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


def analyse_shard(task: AnalyseTask) -> int:
    """Write the index rows of one shard; returns how many rows it had."""
    shard = task.shard
    columns = ["id", "code", "status", "images", *shard.columns]
    parquet = pq.ParquetFile(shard.path)
    rows: list[dict] = []
    offset = 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        kept: list[dict] = []
        for i, record in enumerate(batch.to_pylist()):
            row = {"shard": shard.key, "row": offset + i, "id": record["id"], "code": record["code"],
                   "source": record.get("source"), "licence": record.get("licence")}
            if record["status"] != "ok":
                row["reason"] = f"status_{record['status']}"
            else:
                row["reason"], row["image_index"], row["image_phash"] = _first_usable(record["images"], task.bounds)
            if row["reason"] is None:
                kept.append(row)
            rows.append(row)
        offset += batch.num_rows
        _describe_code(kept, task.minhash)
    table = pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)
    write_parquet(table, task.index_path)
    return table.num_rows


def _describe_code(rows: list[dict], config: MinHashConfig) -> None:
    """Exact-dedup key, tags and MinHash signature of rows that passed the image checks."""
    normalized = [normalize(r["code"]) for r in rows]
    sigs = signatures(normalized, config) if rows else None
    for i, (row, norm) in enumerate(zip(rows, normalized, strict=True)):
        tags = tag(row["code"])
        row.update(code_key=hashlib.sha256(norm.encode("utf-8", "surrogatepass")).hexdigest(),
                   library=tags.library, chart_kinds=list(tags.chart_kinds), data_origin=tags.data_origin,
                   signature=sigs[i].tolist())
