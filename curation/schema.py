"""The curated row researchers pull: one Arrow schema for every shard of every run, so
shards from different runs concatenate and load alike (polars, pyarrow, `datasets`)."""

from __future__ import annotations

import pyarrow as pa

CURATED_SCHEMA_VERSION = 1
MANIFEST_KIND = "curated"
KINDS = ("single", "repair")
SPLITS = ("train", "val")

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
PROVENANCE = pa.struct([
    ("grid_job", pa.string()),    # job key of the grid run the row's code was executed in
    ("shard", pa.string()),       # result shard file name within that run
    ("row", pa.int64()),          # row index within that shard
    ("snippet_id", pa.string()),  # the grid input id
    ("source", pa.string()),      # where the snippet came from (harvest path, synth:seed:index, code-feedback:...)
])
CURATED_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("kind", pa.string()),                 # single | repair
    ("messages", pa.list_(MESSAGE)),       # the conversation, VisCode-200K layout
    ("library", pa.string()),              # primary plotting library
    ("chart_kinds", pa.list_(pa.string())),
    ("data_origin", pa.string()),          # inline | generated | file
    ("instruction", pa.string()),          # the five-part instruction text (first user turn)
    ("instruction_source", pa.string()),   # rules | llm | import
    ("code", pa.string()),                 # the working code (last assistant turn)
    ("image", pa.binary()),                # PNG of the working code's first usable figure
    ("image_phash", pa.string()),          # 16 hex digits, pHash-8 of that image
    ("fault", pa.string()),                # repair rows: the kind of fault in the failing turn
    ("provenance", PROVENANCE),
    ("licence", pa.string()),
])


def row_totals(shards: list[dict]) -> dict[str, int]:
    """Rows per split, then per kind, from manifest shard entries: one layout for every curated manifest."""
    totals = {split: sum(s["rows"] for s in shards if s["split"] == split) for split in SPLITS}
    for kind in sorted({k for s in shards for k in s["counts"]}):
        totals[kind] = sum(s["counts"].get(kind, 0) for s in shards)
    return totals
