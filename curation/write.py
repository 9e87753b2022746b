"""Writing the curated shards: rows sorted by id within each split, cut into shards of
fixed size, with PNG bytes fetched from the grid's result shards only at the end.

It is a two-step shuffle so memory stays bounded by one shard: every input part sends
its rows (with their images) to the output shard they belong to, then each output
shard is sorted and written once, atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from viscode.curation.schema import CURATED_SCHEMA, SPLITS

from viscode.shards import IMAGE_ROW_GROUP, write_parquet

REF = ("ref_shard", "ref_row", "ref_image")  # where a row's PNG lives: result shard path, row, image index


@dataclass(frozen=True, slots=True)
class FillTask:
    part: Path              # rows of CURATED_SCHEMA (image excepted) + split + REF columns
    assignment: Path        # id, split -> out (output shard number) for this part's rows
    buckets: Path


def write_part(frame: pl.DataFrame, path: Path) -> Path:
    """One part of curated rows (image references, not PNG bytes), for `assign` and `fill`."""
    write_parquet(frame.to_arrow(), path)
    return path


def assign(parts: list[Path], shard_rows: int, folder: Path) -> list[Path]:
    """Output shard of every row (ids sorted within their split, `shard_rows` to a shard),
    written as one small assignment file per part so each part reads only its own."""
    ids = pl.scan_parquet(parts, include_file_paths="part").select("id", "split", "part").collect(engine="streaming")
    duplicated = ids.filter(pl.col("id").is_duplicated())
    if duplicated.height:
        raise RuntimeError(f"curated id {duplicated['id'][0]!r} is not unique")
    ids = ids.sort("split", "id").with_columns((pl.int_range(pl.len()).over("split") // shard_rows).alias("out"))
    by_part = {path: group.drop("part") for (path,), group in ids.group_by("part")}
    none = ids.drop("part").clear()  # a part that filtering emptied gets an empty assignment
    out = []
    for part in parts:
        path = folder / part.name
        write_parquet(by_part.get(str(part), none).to_arrow(), path)
        out.append(path)
    return out


def _images(rows: pl.DataFrame) -> pl.Series:
    """PNG bytes for each row's image reference (null where a row has none)."""
    pngs: list[bytes | None] = [None] * rows.height
    refs = rows.select(*REF).with_row_index("i").filter(pl.col("ref_shard").is_not_null())
    for (path,), group in refs.group_by("ref_shard"):
        column = pq.read_table(path, columns=["images"]).column("images")
        taken = column.take(pa.array(group["ref_row"].to_list())).to_pylist()
        for i, images, k in zip(group["i"], taken, group["ref_image"], strict=True):
            pngs[i] = images[k]["png"]
    return pl.Series("image", pngs, dtype=pl.Binary)


def fill(task: FillTask) -> int:
    """Send one part's rows, images attached, to their output shards' buckets."""
    rows = pl.read_parquet(task.part).join(pl.read_parquet(task.assignment), on=["id", "split"], how="inner")
    rows = rows.with_columns(_images(rows)).drop(*REF)
    for (split, out), group in rows.group_by("split", "out"):
        write_parquet(group.drop("split", "out").to_arrow(),
                      task.buckets / f"{split}-{out:05d}" / f"{task.part.stem}.parquet")
    return rows.height


def merge(bucket: Path, output: Path) -> dict:
    """Sort one output shard's rows by id and write it; returns its manifest entry."""
    split, out = bucket.name.rsplit("-", 1)
    frame = pl.read_parquet(sorted(bucket.glob("*.parquet"))).sort("id")
    table = frame.select(CURATED_SCHEMA.names).to_arrow().cast(CURATED_SCHEMA)
    name = f"{split}/{int(out):05d}.parquet"
    info = write_parquet(table, output / name, row_group_size=IMAGE_ROW_GROUP)
    counts = dict(sorted(frame.group_by("kind").len().iter_rows()))
    return {"name": name, "split": split, "rows": info.rows, "bytes": info.bytes, "sha256": info.sha256,
            "counts": counts}


def buckets_in(folder: Path) -> list[Path]:
    """Bucket folders in output order: train shards first, then val (none when every part was empty)."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_dir()),
                  key=lambda p: (SPLITS.index(p.name.rsplit("-", 1)[0]), p.name))
