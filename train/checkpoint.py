"""Checkpoints a crash cannot damage: each is written whole into a hidden folder and renamed to
`checkpoints/step-N` once every process has written its part, and only then are old ones
removed. A folder without that name, or without `trainer_state.json`, is never resumed from."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from viscode.errors import InputError

STATE_FILE = "trainer_state.json"
STEP_DIR = re.compile(r"^step-(\d+)$")


@dataclass(slots=True)
class TrainerState:
    """Where the run is: enough, with the Plan, to replay the data exactly from here."""
    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    tokens: int = 0
    label_tokens: int = 0


def complete(folder: Path) -> list[tuple[int, Path]]:
    """Finished checkpoints, oldest first."""
    found = []
    if folder.is_dir():
        for entry in folder.iterdir():
            match = STEP_DIR.match(entry.name)
            if match and (entry / STATE_FILE).is_file():
                found.append((int(match.group(1)), entry))
    return sorted(found)


def save(accelerator, folder: Path, state: TrainerState, keep_last: int) -> Path:
    """Every process calls this; returns the committed folder."""
    final = folder / f"step-{state.global_step}"
    tmp = folder / f".tmp-step-{state.global_step}"
    try:
        if accelerator.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        accelerator.wait_for_everyone()
        accelerator.save_state(str(tmp))
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            (tmp / STATE_FILE).write_text(json.dumps(asdict(state), indent=2) + "\n")
            _fsync_tree(tmp)
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            for _, old in complete(folder)[:-keep_last]:
                shutil.rmtree(old, ignore_errors=True)
    except Exception as exc:
        if accelerator.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
        if disk_full(exc, folder):
            kept = complete(folder)
            raise InputError(f"{folder}: disk full while saving step-{state.global_step}; "
                             f"{kept[-1][1].name + ' is intact' if kept else 'no earlier checkpoint'}") from None
        raise
    accelerator.wait_for_everyone()
    return final


def disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether a failed write ran out of space: safetensors and torch.save report it in their own
    exception types, so the errno, the message and the free space are all asked."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    text = str(exc).lower()
    if "no space" in text or "write failed" in text:
        return True
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def load(accelerator, checkpoint: Path) -> TrainerState:
    accelerator.load_state(str(checkpoint))
    return TrainerState(**json.loads((checkpoint / STATE_FILE).read_text()))


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
