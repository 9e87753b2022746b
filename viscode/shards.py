"""Output folders, one contract for every stage: Parquet shards and a manifest, written so
that a crash never leaves a file that looks whole (a hidden temp file in the same folder,
fsynced, then renamed, or hard-linked for first-writer-wins commits); a folder locked by
one run at a time and claimed for one run's settings (`run.json`), so two runs never mix.

Every stage writes its output through here, so every stage's output can be verified
the same way: a manifest lists each shard with its row count and sha256.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from viscode.errors import InputError, first_line

TEMP_PREFIX = ".tmp-"
RUN_FILE = "run.json"   # the settings of the run a folder belongs to
LOCK_FILE = ".lock"
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


def manifest_of(kind: str, schema_version: int, shards: list[dict], *, rows: int | None = None, **fields) -> dict:
    """Every stage's manifest layout: kind and schema version first, `rows` the whole output's row
    count (by default the shards' sum), the stage's own fields, then one entry per shard (name,
    rows, bytes, sha256, ...)."""
    return {"kind": kind, "schema_version": schema_version,
            "rows": sum(s["rows"] for s in shards) if rows is None else rows, **fields, "shards": shards}


def shard_problem(path: str | Path, entry: dict) -> str | None:
    """What is wrong with one shard against its manifest entry (missing, or changed since), or None."""
    path = Path(path)
    if not path.is_file():
        return "missing"
    if sha256_file(path) != entry.get("sha256"):
        return "sha256 differs from the manifest (truncated or changed)"
    return None


def verify(folder: str | Path, shards: list[dict]) -> list[str]:
    """Problems found checking `folder` against manifest shard entries (empty = all good)."""
    return [f"{Path(folder) / e['name']}: {problem}" for e in shards
            if (problem := shard_problem(Path(folder) / e["name"], e))]


class FolderBusy(InputError):
    """Another process is writing this output folder."""


class FolderTaken(InputError):
    """The output folder holds another run's output (or other files) and --force was not given."""


def lock_folder(folder: Path) -> IO[str]:
    """Hold `folder`'s lock until the returned handle is closed: one run at a time per folder.
    An flock, so a killed run frees it at once."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole run
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the output folder ({exc.strerror or exc})") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip()
        handle.close()
        raise FolderBusy(f"{folder}: another run is writing this folder ({owner})") from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    handle.flush()
    return handle


def lock_holder(folder: Path) -> str | None:
    """Who holds `folder`'s lock ("pid N on HOST"), or None when no run is writing it."""
    path = folder / LOCK_FILE
    if not path.exists():
        return None
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "a run"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


FORCE_OR_ELSEWHERE = "pass --force to start over there, or choose another --output"


def check(folder: Path, identity: dict, *, force: bool, what: str, remedy: str = FORCE_OR_ELSEWHERE) -> bool:
    """True when `folder` holds this very run (a resume), False when it is free (or `force`
    replaces what is there); refuses, naming the first setting that differs, a folder with
    another run or with files but no record. Only `identity`'s keys are compared: a run may
    record more in `run.json` as it goes. Writes nothing, so a run can check before it starts
    anything."""
    record = folder / RUN_FILE
    if record.exists():
        try:
            previous = json.loads(record.read_text())
        except (OSError, ValueError):
            previous = None
        if isinstance(previous, dict):
            previous = {key: previous.get(key) for key in identity}
        if previous == identity:
            return True
        if not force:
            differs = _first_difference(previous, identity)
            raise FolderTaken(f"{folder}: holds a {what} with other settings ({differs}); {remedy}")
    elif not force and folder.is_dir() and any(p.name != LOCK_FILE for p in folder.iterdir()):
        raise FolderTaken(f"{folder}: holds files that are not a {what}; choose an empty or new --output")
    return False


def claim(folder: Path, identity: dict, *, force: bool, what: str, owned: tuple[str, ...]) -> bool:
    """`check`, then record `identity` in `folder/run.json`; True on a resume. When the folder is
    not this run's, the `owned` paths (glob patterns) of an old one are removed first, so a crash between the
    two never mixes runs. Call it holding the folder's lock."""
    if check(folder, identity, force=force, what=what):
        return True
    clear(folder, owned)
    write_json(identity, folder / RUN_FILE)
    return False


def clear(folder: Path, owned: tuple[str, ...]) -> None:
    """Remove what a run writes in `folder`: the paths matching the `owned` glob patterns."""
    for pattern in owned:
        for path in folder.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def _first_difference(previous, identity: dict) -> str:
    if not isinstance(previous, dict):
        return f"unreadable {RUN_FILE}"
    for key in sorted(set(previous) | set(identity)):
        if previous.get(key) != identity.get(key):
            return f"{key}: {_short(previous.get(key))} there, {_short(identity.get(key))} now"
    return "same settings"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
