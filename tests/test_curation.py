"""curate() on planted grid outputs: each filter, dedup and bad input has a case whose
outcome is known in advance. Repair dialogues (which need the grid) are tested in
test_curation_grid.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from viscode.curation.decide import Caps
from viscode.curation.pipeline import CurationConfig, curate
from viscode.curation.pull import load_shards

from tests.curation_helpers import blank, chart, grid_output, program, row
from viscode.errors import InputError
from viscode.shards import sha256_file

NO_REPAIR = CurationConfig(repair_fraction=0, jobs=1, val_fraction=0.3)


def planted() -> list[list[dict]]:
    """Two shards: 6 distinct good charts and one of every way to be dropped."""
    good = [row(f"good{i}", program(i, kind), chart(kind, i)) for i, kind in
            enumerate(("bar", "line", "scatter", "bar", "line", "scatter"))]
    dropped = [
        row("failed", program(20), None, status="error"),
        row("timeout", program(21), None, status="timeout"),
        row("noimage", program(22), None),
        row("corrupt", program(23), chart("bar", 23)[:300]),
        row("garbage", program(24), b"\x89PNG\r\n\x1a\nnot really a png"),
        row("blank", program(25), blank()),
        row("empty_axes", program(26), chart("bar", 26), artists=0),
        # same program as good0 with other layout, comments and quotes: an exact duplicate
        row("zz_exact", "# a comment\n" + program(0).replace("'chart'", '"chart"').replace("\n\n", "\n"),
            chart("bar", 0)),
        # good1 with one value changed: a near-duplicate program (its chart differs a little)
        row("zz_near", program(1).replace("[", "[99, ", 1).replace(", 1]", "]"), chart("line", 1, title="x")),
        # a different program drawing good2's chart recoloured: a near-duplicate image
        row("zz_image", program(40, "scatter", title="other") + "print('different code')\n",
            chart("scatter", 2, color="C3")),
    ]
    return [good[:3] + dropped[:5], good[3:] + dropped[5:]]


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> tuple[Path, object]:
    base = tmp_path_factory.mktemp("curation")
    grid = grid_output(base / "grid", planted())
    report = curate([grid], base / "out", NO_REPAIR)
    return base, report


def stage(report, name):
    return next(s for s in report.stages if s.name == name)


def test_every_drop_has_its_reason(curated):
    _, report = curated
    assert stage(report, "ran ok").dropped == {"status_error": 1, "status_timeout": 1}
    assert stage(report, "usable image").dropped == {"blank": 1, "no_artists": 1, "no_image": 1, "undecodable": 2}
    assert stage(report, "exact code dedup").dropped == {"duplicate_code": 1}
    assert stage(report, "near-duplicate code").dropped == {"near_duplicate_code": 1}
    assert stage(report, "near-duplicate image").dropped == {"near_duplicate_image": 1}
    for s in report.stages:
        assert s.input == s.kept + sum(s.dropped.values())


def test_shards_hold_the_kept_rows_with_real_images(curated):
    base, _ = curated
    rows = load_shards(base / "out").collect()
    assert sorted(rows["id"]) == [f"good{i}" for i in range(6)]
    assert rows["kind"].unique().to_list() == ["single"]
    for r in rows.iter_rows(named=True):
        image = Image.open(io.BytesIO(r["image"]))
        image.load()
        assert image.size == (240, 180)
        assert [m["role"] for m in r["messages"]] == ["user", "assistant"]
        assert r["messages"][0]["content"] == r["instruction"]
        assert r["code"] in r["messages"][1]["content"]
        assert r["provenance"]["snippet_id"] == r["id"]
        assert r["provenance"]["shard"].startswith("input-")
        assert r["library"] == "matplotlib"
    manifest = json.loads((base / "out" / "manifest.json").read_text())
    assert manifest["kind"] == "curated"
    assert sum(s["rows"] for s in manifest["shards"]) == 6
    for s in manifest["shards"]:
        assert sha256_file(base / "out" / s["name"]) == s["sha256"]
    assert (base / "out" / "card.md").is_file()
    assert not (base / "out" / ".work").exists()


def test_same_input_gives_byte_identical_shards(curated, tmp_path):
    base, _ = curated
    curate([base / "grid"], tmp_path / "out", CurationConfig(repair_fraction=0, jobs=2, val_fraction=0.3))
    first = json.loads((base / "out" / "manifest.json").read_text())["shards"]
    second = json.loads((tmp_path / "out" / "manifest.json").read_text())["shards"]
    assert [(s["name"], s["sha256"]) for s in first] == [(s["name"], s["sha256"]) for s in second]


def test_shuffled_input_keeps_the_same_rows(curated, tmp_path):
    """Winners are chosen by id, not by where a row sits, so only provenance moves."""
    base, _ = curated
    shuffled = [list(reversed(s)) for s in reversed(planted())]
    curate([grid_output(tmp_path / "grid", shuffled)], tmp_path / "out", NO_REPAIR)
    first, second = (load_shards(d).drop("provenance").collect() for d in (base / "out", tmp_path / "out"))
    assert first.equals(second)


def test_caps_keep_at_most_n_per_library_and_kind(tmp_path):
    grid = grid_output(tmp_path / "grid", planted())
    report = curate([grid], tmp_path / "out", CurationConfig(repair_fraction=0, jobs=1,
                                                             caps=Caps(chart_kind=(("bar", 1),))))
    assert stage(report, "balance caps").dropped == {"chart_kind_cap": 1}
    report = curate([grid], tmp_path / "out2", CurationConfig(repair_fraction=0, jobs=1,
                                                              caps=Caps(library=(("matplotlib", 4),))))
    assert stage(report, "balance caps").dropped == {"library_cap": 2}
    assert sum(report.rows.values()) == 4


def test_benchmark_overlap_is_dropped(tmp_path):
    task = json.loads(Path(__file__).parents[1].joinpath("curation", "data", "pandasplotbench_tasks.jsonl")
                      .read_text().splitlines()[5])
    leak = task["task__plot_description"].strip()
    rows = [row("clean", program(1), chart("bar", 1)),
            row("leak", program(2, title=leak), chart("bar", 2, title="leak"))]
    report = curate([grid_output(tmp_path / "grid", [rows])], tmp_path / "out", NO_REPAIR)
    assert stage(report, "benchmark decontamination").dropped == {"benchmark_overlap": 1}
    assert load_shards(tmp_path / "out").collect()["id"].to_list() == ["clean"]


# Where each snippet of the split test falls at val_fraction 0.3: fixed by its id once and for all, so a
# snippet never moves between train and val from one run, machine or release to the next.
SPLITS = {"good0": "train", "good1": "train", "good2": "train", "good3": "train", "good4": "val", "good5": "train",
          "aa2": "val", "new1": "val", "new4": "train", "zz_new1": "val", "zz_new3": "train"}


def splits_of(out: Path) -> dict[str, str]:
    return dict(load_shards(out).select("id", "split").collect().iter_rows())


def test_split_is_by_snippet_and_stable(curated, tmp_path):
    """The split is a function of the snippet id alone: the same in every run, and the same when the
    snippet is curated with other snippets, from other shards and rows."""
    base, _ = curated
    good = {f"good{i}" for i in range(6)}
    assert splits_of(base / "out") == {i: SPLITS[i] for i in good}
    # A second run: the good snippets in other shards and rows, among other snippets whose ids sort
    # before, between and after theirs; good0 and good4 (train and val) trade programs and charts, so
    # what they hold is not what decides.
    others = [row(name, program(seed, kind, title=name), chart(kind, seed, title=name)) for name, seed, kind in
              (("aa2", 7, "bar"), ("new1", 6, "scatter"), ("new4", 8, "line"), ("zz_new1", 10, "bar"),
               ("zz_new3", 9, "scatter"))]
    kept = {r["id"]: r for shard in planted() for r in shard if r["id"] in good}
    traded = [row("good0", program(4, "line"), chart("line", 4)), row("good4", program(0, "bar"), chart("bar", 0))]
    shards = [[others[0], kept["good5"], others[1], kept["good3"]], [traded[1], others[2], kept["good1"]],
              [others[3], kept["good2"], traded[0], others[4]]]
    curate([grid_output(tmp_path / "grid", shards)], tmp_path / "out", NO_REPAIR)
    assert splits_of(tmp_path / "out") == SPLITS  # every snippet kept, each in its own split


# -- bad input -----------------------------------------------------------------------------------

def test_truncated_shard_is_named_or_skipped_with_a_count(tmp_path):
    grid = grid_output(tmp_path / "grid", planted())
    shard = grid / "results" / "input-000001.parquet"
    shard.write_bytes(shard.read_bytes()[:-200])
    with pytest.raises(InputError, match="input-000001.parquet: sha256 differs"):
        curate([grid], tmp_path / "out", NO_REPAIR)
    assert not (tmp_path / "out").exists()
    report = curate([grid], tmp_path / "out", CurationConfig(repair_fraction=0, jobs=1, skip_bad_shards=True))
    assert report.stages[0].name == "verified shards"
    assert report.stages[0].dropped == {"bad_shard": 8}


def test_other_schema_version_is_refused(tmp_path):
    grid = grid_output(tmp_path / "grid", planted(), schema_version=99)
    with pytest.raises(InputError, match="result schema version 99"):
        curate([grid], tmp_path / "out", NO_REPAIR)


def test_same_id_for_different_code_across_shards_is_refused(tmp_path):
    a = grid_output(tmp_path / "a", [[row("same", program(1), chart("bar", 1))]], job="a" * 64)
    b = grid_output(tmp_path / "b", [[row("same", program(2), chart("bar", 2))]], job="b" * 64)
    with pytest.raises(InputError, match="'same' names different code"):
        curate([a, b], tmp_path / "out", NO_REPAIR)


def test_same_snippet_in_two_grid_jobs_is_one_row(tmp_path):
    a = grid_output(tmp_path / "a", [[row("same", program(1), chart("bar", 1))]], job="a" * 64)
    b = grid_output(tmp_path / "b", [[row("same", program(1), chart("bar", 1))]], job="b" * 64)
    report = curate([a, b], tmp_path / "out", NO_REPAIR)
    assert stage(report, "exact code dedup").dropped == {"duplicate_code": 1}
    (only,) = load_shards(tmp_path / "out").collect().iter_rows(named=True)
    assert only["provenance"]["shard"] == "input-000000.parquet" and only["provenance"]["row"] == 0
    assert len(only["provenance"]["grid_job"]) == 64


def test_empty_input_is_refused(tmp_path):
    with pytest.raises(InputError, match="no result rows"):
        curate([grid_output(tmp_path / "grid", [])], tmp_path / "out", NO_REPAIR)
    with pytest.raises(InputError, match="no manifest.json"):
        (tmp_path / "empty").mkdir()
        curate([tmp_path / "empty"], tmp_path / "out", NO_REPAIR)


def test_existing_output_needs_force(curated):
    base, _ = curated
    with pytest.raises(InputError, match="pass --force"):
        curate([base / "grid"], base / "out", NO_REPAIR)


def test_nothing_usable_gives_an_empty_dataset_not_a_crash(tmp_path):
    rows = [row("failed", program(1), None, status="error"), row("blank", program(2), blank())]
    report = curate([grid_output(tmp_path / "grid", [rows])], tmp_path / "out", NO_REPAIR)
    assert report.rows == {"train": 0, "val": 0} and report.shards == []
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["shards"] == []
    assert "blank" in (tmp_path / "out" / "card.md").read_text()


def test_output_folder_is_claimed_carefully(tmp_path):
    grid = grid_output(tmp_path / "grid", planted())
    with pytest.raises(InputError, match="outside the grid outputs"):
        curate([grid], grid / "curated", NO_REPAIR)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds files that are not a curated dataset"):
        curate([grid], tmp_path / "busy", NO_REPAIR)
    with pytest.raises(InputError, match="manifest kind 'grid-results'"):
        curate([grid], grid_output(tmp_path / "other", []), CurationConfig(repair_fraction=0, jobs=1), force=True)
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


def test_bad_settings_are_refused():
    with pytest.raises(InputError, match="decontamination threshold"):
        CurationConfig(decontam_threshold=0)
    with pytest.raises(InputError, match="val fraction"):
        CurationConfig(val_fraction=1)


def test_a_part_emptied_by_decontamination_is_normal(tmp_path):
    """The last result shard holds only rows decontamination drops: its part is empty."""
    tasks = Path(__file__).parents[1].joinpath("curation", "data", "pandasplotbench_tasks.jsonl").read_text()
    leaks = [json.loads(line)["task__plot_description"].strip() for line in tasks.splitlines()[:3]]
    leaking = [row(f"zleak{i}", program(50 + i, title=text), chart("bar", 50 + i, title=f"t{i}"))
               for i, text in enumerate(leaks)]
    report = curate([grid_output(tmp_path / "grid", planted() + [leaking])], tmp_path / "out", NO_REPAIR)
    assert stage(report, "benchmark decontamination").dropped == {"benchmark_overlap": 3}
    assert sorted(load_shards(tmp_path / "out").collect()["id"]) == [f"good{i}" for i in range(6)]


@pytest.mark.parametrize("val_fraction, empty", [(0.0, "val"), (0.999, "train")])
def test_a_split_with_no_rows_is_normal(tmp_path, val_fraction, empty):
    config = CurationConfig(repair_fraction=0, jobs=1, val_fraction=val_fraction)
    report = curate([grid_output(tmp_path / "grid", planted())], tmp_path / "out", config)
    assert report.rows[empty] == 0 and sum(report.rows.values()) == 6
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {s["split"] for s in manifest["shards"]} == {"train", "val"} - {empty}
    rows = load_shards(tmp_path / "out").collect()
    assert rows.height == 6 and set(rows["split"]) == {"train", "val"} - {empty}
    assert "card.md" in {p.name for p in (tmp_path / "out").iterdir()}
