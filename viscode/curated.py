"""Opening a curated output folder: the manifest checks every reader of curated shards shares
(`viscode shards pull`, `load_shards`, the trainer). pyarrow and fsspec only, so the trainer
reads curated shards wherever torch runs, without polars."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import fsspec

from viscode.curation.schema import CURATED_SCHEMA_VERSION, MANIFEST_KIND
from viscode.errors import InputError
from viscode.shards import url_to_fs


def open_curated(src: str) -> tuple[fsspec.AbstractFileSystem, str, dict]:
    """The filesystem, root path and checked manifest of a curated output folder (path or fsspec URL)."""
    fs, root = url_to_fs(str(src))
    root = root.rstrip("/")
    where = f"{str(src).rstrip('/')}/manifest.json"
    try:
        with fs.open(f"{root}/manifest.json", "rb") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise InputError(f"{where}: missing, so this is not a curated output folder (or a pull did not finish)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        kind = manifest.get("kind") if isinstance(manifest, dict) else None
        raise InputError(f"{where}: manifest kind is {kind!r}, not 'curated'")
    if manifest.get("schema_version") != CURATED_SCHEMA_VERSION:
        raise InputError(f"{where}: curated schema version {manifest.get('schema_version')!r}, "
                         f"this viscode reads version {CURATED_SCHEMA_VERSION}")
    shards = manifest.get("shards")
    if not isinstance(shards, list) or not all(isinstance(e, dict) and {"name", "split", "sha256", "bytes"} <= e.keys()
                                               for e in shards):
        raise InputError(f"{where}: its shards list is missing or an entry lacks name, split, sha256 or bytes")
    for entry in shards:
        parts = PurePosixPath(entry["name"]).parts
        if len(parts) != 2 or parts[0] != entry["split"] or not parts[1].endswith(".parquet") \
                or parts[1].startswith("."):
            raise InputError(f"{where}: shard name {entry['name']!r} is not <split>/<file>.parquet")
    return fs, root, manifest
