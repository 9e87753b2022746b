"""Pulling a curated output to a local folder, and loading one.

`pull` copies shards from any fsspec URL in blocks to `<name>.part`, resumes a `.part` from
where it stopped, and renames a shard into place only after its sha256 matches the source
manifest, so a shard file at the destination is always whole and verified. The destination
manifest is written last: while a pull is changing shards there is none, and `load_shards`
refuses the folder rather than read a mix.

Filtered pulls keep only the matching rows. The full shard is a staging file (`.part`) that is
deleted once the filtered shard is written; the filtered shard's Parquet footer records the
source sha256 and the filter, so a rerun with the same filters skips it without downloading,
even after a crash before the manifest was written, and the destination never holds two copies.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem
from viscode.curation.card import CARD_DIR
from viscode.curation.schema import CURATED_SCHEMA, CURATED_SCHEMA_VERSION, KINDS, MANIFEST_KIND, SPLITS, row_totals

from viscode.curated import open_curated
from viscode.errors import InputError
from viscode.progress import Progress
from viscode.shards import (
    IMAGE_ROW_GROUP,
    manifest_of,
    remove_orphan_temps,
    sha256_file,
    write_bytes,
    write_json,
    write_parquet,
)

BLOCK = 4 << 20
PART_SUFFIX = ".part"
META_SOURCE = b"viscode.source_sha256"
META_FILTER = b"viscode.filter"


@dataclass(slots=True)
class PullReport:
    """Every selected shard is exactly one of copied (from byte 0), resumed (from a `.part`) or skipped
    (nothing downloaded). rows/bytes describe the destination shards; downloaded is what was read from SRC."""
    shards: int
    copied: int
    skipped: int
    resumed: int
    rows: int
    bytes: int
    filtered_out: int
    dest: Path
    downloaded: int


def _check_choices(what: str, values: list[str] | None, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(values or ()) - set(allowed))
    if unknown:
        raise InputError(f"unknown {what} {', '.join(unknown)} (choose from {', '.join(allowed)})")


def _fetch(fs: fsspec.AbstractFileSystem, path: str, part: Path, entry: dict, src: str,
           advance: Callable[[int], None]) -> tuple[int, bool]:
    """Copy one shard to `part`, continuing an existing `.part`, and verify it; returns (bytes read, resumed)."""
    have = part.stat().st_size if part.is_file() else 0
    if have > entry["bytes"]:
        part.unlink()
        have = 0
    digest = hashlib.sha256()
    if have:
        with open(part, "rb") as f:
            while block := f.read(BLOCK):
                digest.update(block)
    advance(have)
    part.parent.mkdir(parents=True, exist_ok=True)
    read = 0
    with fs.open(path, "rb") as source, open(part, "ab") as out:
        source.seek(have)
        while block := source.read(BLOCK):
            digest.update(block)
            out.write(block)
            read += len(block)
            advance(len(block))
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != entry["sha256"]:
        part.unlink()
        raise InputError(f"{src.rstrip('/')}/{entry['name']}: sha256 {digest.hexdigest()[:16]}… differs from the "
                         f"manifest's {entry['sha256'][:16]}…; the partial copy was removed")
    return read, have > 0


def _footer(path: Path) -> tuple[bytes | None, bytes | None]:
    """(source sha256, filter) recorded in a filtered shard's footer; (None, None) for any other file."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowInvalid, OSError):
        return None, None
    return meta.get(META_SOURCE), meta.get(META_FILTER)


def _kind_counts(path: Path) -> dict[str, int]:
    counts = pc.value_counts(pq.read_table(path, columns=["kind"])["kind"]).to_pylist()
    return {c["values"]: c["counts"] for c in sorted(counts, key=lambda c: c["values"])}


def _filter(source: Path, target: Path, entry: dict, expr: pc.Expression, spec: str) -> str:
    """Rewrite the matching rows of a verified shard atomically, the footer naming where they came from;
    returns the new shard's sha256."""
    table = pq.read_table(source, filters=expr)
    table = table.replace_schema_metadata({META_SOURCE: entry["sha256"].encode(), META_FILTER: spec.encode()})
    return write_parquet(table, target, row_group_size=IMAGE_ROW_GROUP).sha256


def _current(target: Path, sha: str | None, entry: dict, spec: str | None, previous: dict[str, str]) -> bool:
    """Whether the shard at `target` already is what this pull would write.

    Unfiltered: it is the source shard. Filtered: its footer names this source and filter, and it is
    the file the last finished pull recorded (when there was one).
    """
    if sha is None:
        return False
    if spec is None:
        return sha == entry["sha256"]
    return _footer(target) == (entry["sha256"].encode(), spec.encode()) and previous.get(entry["name"], sha) == sha


def _copy_card(fs: fsspec.AbstractFileSystem, root: str, dest: Path) -> None:
    """card.md and card/* describe the source output (not a filtered subset); copied as they are."""
    paths = [f"{root}/card.md"] if fs.exists(f"{root}/card.md") else []
    paths += sorted(fs.find(f"{root}/{CARD_DIR}")) if fs.isdir(f"{root}/{CARD_DIR}") else []
    for path in paths:
        write_bytes(fs.cat_file(path), dest / path[len(root) + 1:])


def _previous_shards(dest: Path) -> dict[str, str]:
    """name -> sha256 of the shards an earlier pull committed to `dest` (none without its manifest)."""
    manifest = dest / "manifest.json"
    if not manifest.is_file():
        return {}
    return {e["name"]: e["sha256"] for e in json.loads(manifest.read_text()).get("shards", [])}


def pull(src: str | Path, dest: Path, *, kinds: list[str] | None = None, libraries: list[str] | None = None,
         splits: list[str] | None = None, on_progress: Progress | None = None) -> PullReport:
    """Copy a curated output from SRC (path or fsspec URL) to `dest`, verifying every shard's sha256.

    kinds/libraries keep only matching rows; splits picks whole splits. on_progress("pull", done, total) counts
    bytes of the selected source shards (skipped ones count as done at once).
    """
    src = str(src)
    _check_choices("kind", kinds, KINDS)
    _check_choices("split", splits, SPLITS)
    fs, root, manifest = open_curated(src)
    dest = Path(dest)
    wanted = tuple(splits) if splits is not None else SPLITS
    entries = [e for e in manifest["shards"] if e["split"] in wanted]
    chosen = {"kinds": sorted(set(kinds)) if kinds is not None else None,
              "libraries": sorted(set(libraries)) if libraries is not None else None}
    expr = None
    for column, values in (("kind", chosen["kinds"]), ("library", chosen["libraries"])):
        if values is not None:
            expr = pc.field(column).isin(values) if expr is None else expr & pc.field(column).isin(values)
    spec = json.dumps(chosen, sort_keys=True) if expr is not None else None

    previous = _previous_shards(dest)
    total = sum(e["bytes"] for e in entries)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress("pull", done, total)

    def retire_manifest() -> None:
        """Before the first shard changes: no manifest may describe a folder that is being rewritten."""
        (dest / "manifest.json").unlink(missing_ok=True)

    for split in sorted({e["split"] for e in entries}):
        remove_orphan_temps(dest / split)
    tally = {"copied": 0, "resumed": 0, "skipped": 0, "downloaded": 0, "filtered_out": 0}
    shards = []
    for entry in entries:
        target = dest / entry["name"]
        part = target.with_name(target.name + PART_SUFFIX)
        sha = sha256_file(target) if target.is_file() else None
        if _current(target, sha, entry, spec, previous):
            tally["skipped"] += 1
            advance(entry["bytes"])
        else:
            retire_manifest()
            source = target
            if sha == entry["sha256"]:  # filtered pull over an unfiltered copy: that copy is the verified source
                tally["skipped"] += 1
                advance(entry["bytes"])
            else:
                read, resumed = _fetch(fs, f"{root}/{entry['name']}", part, entry, src, advance)
                tally["downloaded"] += read
                tally["resumed" if resumed else "copied"] += 1
                source = part
            if expr is None:
                os.replace(part, target)
                sha = entry["sha256"]
            else:
                sha = _filter(source, target, entry, expr, spec)
                part.unlink(missing_ok=True)
        rows = pq.read_metadata(target).num_rows
        tally["filtered_out"] += entry["rows"] - rows
        shards.append({"name": entry["name"], "split": entry["split"], "rows": rows, "bytes": target.stat().st_size,
                       "sha256": sha, "counts": _kind_counts(target) if expr is not None else entry.get("counts", {}),
                       "source_sha256": entry["sha256"]})

    _copy_card(fs, root, dest)
    stale = sorted(set(previous) - {s["name"] for s in shards})  # written by an earlier pull, no longer selected
    if stale:
        retire_manifest()
    for name in stale:
        (dest / name).unlink(missing_ok=True)
    write_json(manifest_of(MANIFEST_KIND, CURATED_SCHEMA_VERSION, shards, counts=row_totals(shards), source=src,
                           filter={**chosen, "splits": list(wanted)}, filtered_out=tally["filtered_out"],
                           **{k: manifest[k] for k in ("stages", "licences", "config", "versions") if k in manifest}),
               dest / "manifest.json")
    return PullReport(shards=len(shards), rows=sum(s["rows"] for s in shards), bytes=sum(s["bytes"] for s in shards),
                      dest=dest, **tally)


def load_shards(path: str | Path, *, splits: tuple[str, ...] = SPLITS) -> pl.LazyFrame:
    """A lazy scan of exactly the shards the manifest lists (never a glob, so stray or half-pulled files
    are never read), with a `split` column. Sizes are checked against the manifest; sha256 is checked by
    `pull` and `viscode.shards.verify`. Remote folders need a URL polars can scan (s3://, gs://, hf://, ...)."""
    fs, root, manifest = open_curated(path)
    frames = []
    for split in splits:
        files = []
        for entry in (e for e in manifest["shards"] if e["split"] == split):
            file = f"{root}/{entry['name']}"
            try:
                size = fs.size(file)
            except FileNotFoundError:
                size = None
            if size != entry["bytes"]:
                raise InputError(f"{file}: {'missing' if size is None else f'{size} bytes'}, the manifest says "
                                 f"{entry['bytes']}; pull it again")
            files.append(file if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(file))
        if files:
            frames.append(pl.scan_parquet(files).with_columns(pl.lit(split).alias("split")))
    if not frames:
        return pl.from_arrow(CURATED_SCHEMA.empty_table()).lazy().with_columns(pl.lit(None, pl.String).alias("split"))
    return pl.concat(frames)
