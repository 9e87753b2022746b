"""Claiming an output folder: one run at a time per folder, and a folder that holds another
run's output is refused unless the user forces a fresh start.

The lock is an flock held for the run's life, so a killed run frees it at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from pathlib import Path
from typing import IO

from viscode.errors import InputError
from viscode.shards import write_json

IDENTITY = "run.json"


class FolderBusy(InputError):
    """Another process is writing this output folder."""


def lock_folder(folder: Path) -> IO[str]:
    """Hold `folder`'s lock until the returned handle is closed."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / ".lock", "a+")  # noqa: SIM115 - held for the whole run
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


def check(folder: Path, identity: dict, *, force: bool, what: str) -> bool:
    """True when `folder` holds this very run (a resume), False when it is free (or `force`
    replaces what is there); refuses, naming the first setting that differs, a folder with
    another run or with files but no record. Writes nothing, so a run can check before it
    starts anything."""
    record = folder / IDENTITY
    if record.exists():
        try:
            previous = json.loads(record.read_text())
        except (OSError, ValueError):
            previous = None
        if previous == identity:
            return True
        if not force:
            differs = _first_difference(previous, identity)
            raise InputError(f"{folder}: holds a {what} with other settings ({differs}); pass --force to start "
                             "over there, or choose another --output")
    elif not force and folder.is_dir() and any(p.name != ".lock" for p in folder.iterdir()):
        raise InputError(f"{folder}: holds files that are not a {what}; choose an empty or new --output")
    return False


def claim(folder: Path, identity: dict, *, force: bool, what: str, owned: tuple[str, ...]) -> bool:
    """`check`, then record `identity` in `folder/run.json`; True on a resume. When the folder is
    not this run's, the `owned` paths of an old one are removed first, so a crash between the
    two never mixes runs. Call it holding the folder's lock."""
    if check(folder, identity, force=force, what=what):
        return True
    for name in owned:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    write_json(identity, folder / IDENTITY)
    return False


def _first_difference(previous, identity: dict) -> str:
    if not isinstance(previous, dict):
        return f"unreadable {IDENTITY}"
    for key in sorted(set(previous) | set(identity)):
        if previous.get(key) != identity.get(key):
            return f"{key}: {previous.get(key)!r} there, {identity.get(key)!r} now"
    return "same settings"
