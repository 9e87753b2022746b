"""Curated rows for training: the manifest's shards of one split, verified against their sha256
before a byte is used, reading only the columns the trainer needs (never the PNGs)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

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
class CuratedSplit:
    rows: pa.Table   # id, kind, library, messages
    digest: str      # sha256 over the manifest's shard digests of this split and the filter


def _sha256(fs, path: str, where: str) -> str:
    digest = hashlib.sha256()
    try:
        with fs.open(path, "rb") as f:
            while block := f.read(1 << 22):
                digest.update(block)
    except FileNotFoundError:
        raise InputError(f"{where}: missing, though the manifest lists it") from None
    return digest.hexdigest()


def read_split(src: str, split: str, rows: RowFilter = RowFilter()) -> CuratedSplit:
    """The rows of `split` that pass `rows`, from shards whose sha256 matches the manifest."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r} (choose from {', '.join(SPLITS)})")
    fs, root, manifest = open_curated(src)
    entries = sorted((e for e in manifest["shards"] if e["split"] == split), key=lambda e: e["name"])
    tables = []
    for entry in entries:
        path = f"{root}/{entry['name']}"
        where = f"{str(src).rstrip('/')}/{entry['name']}"
        if _sha256(fs, path, where) != entry["sha256"]:
            raise InputError(f"{where}: sha256 differs from the manifest; pull it again")
        try:
            with fs.open(path, "rb") as f:
                table = pq.read_table(f, columns=COLUMNS, filters=rows.expression())
        except (pa.ArrowInvalid, KeyError) as exc:
            raise InputError(f"{where}: not a curated shard ({exc})") from None
        tables.append(table)
    digest = hashlib.sha256(json.dumps({"shards": [(e["name"], e["sha256"]) for e in entries],
                                        "filter": rows.to_json()}, sort_keys=True).encode()).hexdigest()
    table = pa.concat_tables(tables) if tables else pa.schema([CURATED_SCHEMA.field(c) for c in COLUMNS]).empty_table()
    return CuratedSplit(table, digest)
