"""Curated rows for training: the manifest's shards of one split, verified against their sha256
before a byte is used, reading only the columns the trainer needs (never the PNGs)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from viscode.curation.schema import CURATED_SCHEMA, KINDS, SPLITS

from viscode.curated import open_curated
from viscode.errors import InputError

COLUMNS = ["id", "kind", "library", "messages"]


@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which rows to train on, as `viscode shards pull` selects them."""
    kinds: tuple[str, ...] | None = None
    libraries: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds or ()) - set(KINDS))
        if unknown:
            raise InputError(f"unknown kind {', '.join(unknown)} (choose from {', '.join(KINDS)})")

    def expression(self) -> pc.Expression | None:
        expr = None
        for column, values in (("kind", self.kinds), ("library", self.libraries)):
            if values is not None:
                term = pc.field(column).isin(list(values))
                expr = term if expr is None else expr & term
        return expr

    def to_json(self) -> dict:
        return {"kinds": sorted(self.kinds) if self.kinds else None,
                "libraries": sorted(self.libraries) if self.libraries else None}


@dataclass(frozen=True, slots=True)
class SplitSource:
    """One split of a curated folder as its manifest describes it: enough to key a cache on."""
    src: str
    split: str
    rows: RowFilter
    fs: fsspec.AbstractFileSystem
    root: str
    entries: list[dict]
    digest: str  # sha256 over the split's shard names and digests and the filter


@dataclass(frozen=True, slots=True)
class CuratedSplit:
    rows: pa.Table   # id, kind, library, messages
    digest: str


def open_split(src: str, split: str, rows: RowFilter = RowFilter()) -> SplitSource:
    """The manifest's view of a split; reads no shard."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r} (choose from {', '.join(SPLITS)})")
    fs, root, manifest = open_curated(src)
    entries = sorted((e for e in manifest["shards"] if e["split"] == split), key=lambda e: e["name"])
    digest = hashlib.sha256(json.dumps({"shards": [(e["name"], e["sha256"]) for e in entries],
                                        "filter": rows.to_json()}, sort_keys=True).encode()).hexdigest()
    return SplitSource(str(src), split, rows, fs, root, entries, digest)


def read_rows(source: SplitSource) -> pa.Table:
    """The split's rows that pass its filter. Each shard is read once, into memory: its sha256 is
    checked against the manifest before a row of it is parsed."""
    tables = []
    for entry in source.entries:
        where = f"{source.src.rstrip('/')}/{entry['name']}"
        try:
            data = source.fs.cat_file(f"{source.root}/{entry['name']}")
        except FileNotFoundError:
            raise InputError(f"{where}: missing, though the manifest lists it") from None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise InputError(f"{where}: sha256 differs from the manifest; pull it again")
        try:
            tables.append(pq.read_table(pa.BufferReader(data), columns=COLUMNS, filters=source.rows.expression()))
        except (pa.ArrowInvalid, KeyError) as exc:
            raise InputError(f"{where}: not a curated shard ({exc})") from None
    return pa.concat_tables(tables) if tables else pa.schema([CURATED_SCHEMA.field(c) for c in COLUMNS]).empty_table()


def read_split(src: str, split: str, rows: RowFilter = RowFilter()) -> CuratedSplit:
    """The rows of `split` that pass `rows`, from shards whose sha256 matches the manifest."""
    source = open_split(src, split, rows)
    return CuratedSplit(read_rows(source), source.digest)
