"""Candidate shards: the grid's input, written by `viscode candidates harvest` (real code) and
`viscode candidates synth` (generated programs).

Each row has at least `id` (digest of the normalized code), `code`, `source` (where
it came from) and `libraries` (plotting libraries it uses); `licence` and any other
columns a source provides ride along and reach the grid's results untouched.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from viscode.shards import (
    ShardInfo,
    claim,
    clear,
    lock_folder,
    manifest_of,
    remove_orphan_temps,
    write_json,
    write_parquet,
)

CANDIDATE_SCHEMA_VERSION = 1
CORE_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("code", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("libraries", pa.list_(pa.string()), nullable=False),
]
SHARD_ROWS = 50_000
OWNED = ("candidates-*.parquet", "manifest.json")  # what a candidate run writes in its folder


class CandidateWriter:
    """Buffers candidate rows and writes them as numbered shards; `close()` writes the
    manifest last, so a folder with a manifest is a finished one.

    The folder is locked and claimed for one command's settings: the same command again finds
    it `finished` (its manifest), a run of the same settings that stopped part-way starts over,
    and another command's folder is refused unless `force`."""

    def __init__(self, output: Path, *, command: str, config: dict, shard_rows: int = SHARD_ROWS,
                 force: bool = False):
        self.lock = lock_folder(output)
        self.finished: dict | None = None
        if claim(output, {"command": command, "config": config}, force=force, what="candidate set", owned=OWNED):
            manifest = output / "manifest.json"
            if manifest.exists():
                self.finished = json.loads(manifest.read_text())
                self.lock.close()
                return
            clear(output, OWNED)
        remove_orphan_temps(output)
        self.output = output
        self.command, self.config = command, config
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

    def close(self, counts: dict[str, int] | None = None) -> dict:
        """Write the last shard and the manifest; returns the manifest."""
        self._flush()
        result = manifest_of("candidates", CANDIDATE_SCHEMA_VERSION, [s.to_json() for s in self.shards],
                          command=self.command, config=self.config, counts=dict(counts or {}),
                          libraries=dict(sorted(self.libraries.items())),
                          seconds=round(time.monotonic() - self.started, 3))
        write_json(result, self.output / "manifest.json")
        self.lock.close()
        return result
