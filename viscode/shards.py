"""Parquet shards and manifests, written so that a crash never leaves a file that
looks whole: every write goes to a hidden temp file in the same folder, is fsynced,
and is then renamed (or hard-linked, for first-writer-wins commits) into place.

Every stage writes its output through here, so every stage's output can be verified
the same way: a manifest lists each shard with its row count and sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from viscode.errors import InputError, first_line

TEMP_PREFIX = ".tmp-"
IMAGE_ROW_GROUP = 256  # rows with PNGs: small groups keep readers' peak memory low


@dataclass(frozen=True, slots=True)
class ShardInfo:
    name: str
    rows: int
    bytes: int
    sha256: str

    def to_json(self) -> dict:
        return asdict(self)


def url_to_fs(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """(filesystem, path) of a local path or any fsspec URL; an unknown scheme or a backend
    that is not installed (s3fs, gcsfs) is named as the user's input error."""
    try:
        return fsspec.core.url_to_fs(url)
    except (ValueError, ImportError) as exc:
        raise InputError(f"{url}: cannot open ({first_line(exc)})") from None


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _temp_in(folder: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TEMP_PREFIX}{name}.")
    os.close(fd)
    return Path(tmp)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(table: pa.Table, path: str | Path, *, row_group_size: int | None = None,
                  exclusive: bool = False) -> ShardInfo | None:
    """Write `table` to `path` atomically; returns its ShardInfo.

    exclusive=True commits only if `path` does not exist yet (hard link, atomic on
    POSIX filesystems) and returns None when another writer got there first, so two
    attempts at the same shard never rewrite a finished file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_in(path.parent, path.name)
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size)
        _fsync(tmp)
        info = ShardInfo(path.name, table.num_rows, tmp.stat().st_size, sha256_file(tmp))
        os.chmod(tmp, 0o644)
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return None
        else:
            os.replace(tmp, path)
        return info
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(data: bytes, path: str | Path) -> None:
    """Atomic file write: the file is replaced whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_in(path.parent, path.name)
    try:
        tmp.write_bytes(data)
        _fsync(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(obj, path: str | Path) -> None:
    """Atomic JSON write (the manifest is replaced whole or not at all)."""
    write_bytes((json.dumps(obj, indent=2, sort_keys=False) + "\n").encode(), path)


def remove_orphan_temps(folder: str | Path) -> int:
    """Delete temp files a crashed writer left behind; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for tmp in folder.glob(f"{TEMP_PREFIX}*"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def verify(folder: str | Path, shards: list[dict]) -> list[str]:
    """Problems found checking `folder` against manifest shard entries (empty = all good)."""
    problems = []
    for entry in shards:
        path = Path(folder) / entry["name"]
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif sha256_file(path) != entry["sha256"]:
            problems.append(f"{path}: sha256 differs from the manifest")
    return problems
