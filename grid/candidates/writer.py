"""Candidate shards: the grid's input, written by `viscode candidates harvest` (real code) and
`viscode candidates synth` (generated programs).

Each row has at least `id` (digest of the normalized code), `code`, `source` (where
it came from) and `libraries` (plotting libraries it uses); `licence` and any other
columns a source provides ride along and reach the grid's results untouched.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from viscode.errors import InputError
from viscode.shards import ShardInfo, remove_orphan_temps, write_json, write_parquet

CANDIDATE_SCHEMA_VERSION = 1
CORE_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("code", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("libraries", pa.list_(pa.string()), nullable=False),
]
SHARD_ROWS = 50_000


class OutputExists(InputError):
    """The output folder already holds a finished result and --force was not given."""


def prepare_output(output: Path, force: bool) -> None:
    """Refuse to mix two runs' shards in one folder unless asked to replace them."""
    if (output / "manifest.json").exists() or any(output.glob("*.parquet")):
        if not force:
            raise OutputExists(f"{output}: already holds shards and a manifest; pass --force to replace them")
        for old in list(output.glob("*.parquet")) + [output / "manifest.json"]:
            old.unlink(missing_ok=True)
    output.mkdir(parents=True, exist_ok=True)
    remove_orphan_temps(output)


class CandidateWriter:
    """Buffers candidate rows and writes them as numbered shards; `close()` writes the
    manifest last, so a folder with a manifest is a finished one."""

    def __init__(self, output: Path, *, command: str, shard_rows: int = SHARD_ROWS, force: bool = False):
        prepare_output(output, force)
        self.output = output
        self.command = command
        self.shard_rows = shard_rows
        self.rows: list[dict] = []
        self.shards: list[ShardInfo] = []
        self.libraries: Counter[str] = Counter()
        self.started = time.monotonic()

    def add(self, row: dict) -> None:
        self.rows.append(row)
        self.libraries.update(row["libraries"])
        if len(self.rows) >= self.shard_rows:
            self._flush()

    @property
    def written(self) -> int:
        return sum(s.rows for s in self.shards) + len(self.rows)

    def _flush(self) -> None:
        if not self.rows:
            return
        extra = sorted({key for row in self.rows for key in row} - {f.name for f in CORE_FIELDS})
        columns = {f.name: pa.array([row[f.name] for row in self.rows], type=f.type) for f in CORE_FIELDS}
        for key in extra:  # an all-null column is typed string, so every shard has one schema
            values = pa.array([row.get(key) for row in self.rows])
            columns[key] = values.cast(pa.string()) if pa.types.is_null(values.type) else values
        table = pa.table(columns)
        name = f"candidates-{len(self.shards):05d}.parquet"
        self.shards.append(write_parquet(table, self.output / name))
        self.rows = []

    def close(self, counts: dict[str, int] | None = None, config: dict | None = None) -> dict:
        """Write the last shard and the manifest; returns the manifest."""
        self._flush()
        manifest = {
            "kind": "candidates",
            "schema_version": CANDIDATE_SCHEMA_VERSION,
            "command": self.command,
            "config": config or {},
            "rows": sum(s.rows for s in self.shards),
            "counts": dict(counts or {}),
            "libraries": dict(sorted(self.libraries.items())),
            "seconds": round(time.monotonic() - self.started, 3),
            "shards": [s.to_json() for s in self.shards],
        }
        write_json(manifest, self.output / "manifest.json")
        return manifest

