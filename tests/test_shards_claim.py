"""Claiming an output folder: resume the same run, refuse another run's folder or a folder of
other files, replace only what the old run owned when forced, one writer at a time."""

from __future__ import annotations

import json

import pytest

from viscode.errors import InputError
from viscode.shards import FolderBusy, check, claim, lock_folder

RUN = {"model": "a", "self_debug": 3}


def test_a_new_folder_is_claimed_and_the_same_run_resumes(tmp_path):
    out = tmp_path / "run"
    assert check(out, RUN, force=False, what="run") is False and not out.exists()  # checking writes nothing
    out.mkdir()
    assert claim(out, RUN, force=False, what="run", owned=("work",)) is False
    (out / "work").mkdir()
    assert claim(out, RUN, force=False, what="run", owned=("work",)) is True
    assert (out / "work").exists() and json.loads((out / "run.json").read_text()) == RUN


def test_another_run_is_refused_naming_the_difference_and_force_replaces_only_what_it_owned(tmp_path):
    claim(tmp_path, RUN, force=False, what="run", owned=())
    (tmp_path / "work").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    other = {**RUN, "self_debug": 1}
    with pytest.raises(InputError, match="self_debug: 3 there, 1 now"):
        claim(tmp_path, other, force=False, what="run", owned=("work",))
    assert claim(tmp_path, other, force=True, what="run", owned=("work", "summary.json")) is False
    assert not (tmp_path / "work").exists() and (tmp_path / "notes.txt").read_text() == "mine"
    assert json.loads((tmp_path / "run.json").read_text()) == other


def test_a_folder_of_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds files that are not a run"):
        claim(tmp_path, RUN, force=False, what="run", owned=())
    assert not (tmp_path / "run.json").exists()


def test_one_writer_at_a_time(tmp_path):
    held = lock_folder(tmp_path)
    try:
        with pytest.raises(FolderBusy, match="another run is writing this folder"):
            lock_folder(tmp_path)
    finally:
        held.close()
    lock_folder(tmp_path).close()  # free again once the holder lets go
