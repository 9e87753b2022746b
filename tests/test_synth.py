"""The program synthesizer: deterministic, diverse, metadata that matches the code, shards
that verify, and, run in the real sandbox, clean programs that draw and faulty ones that fail."""

from __future__ import annotations

import ast
import json
from collections import Counter

import pyarrow.parquet as pq
import pytest
from viscode.grid.candidates import synth
from viscode.grid.candidates.synth import synthesize, write_synth
from viscode.grid.candidates.synth.faults import FAULTS
from viscode.sandbox import Sandbox

from viscode.codetext import code_id, plotting_libraries
from viscode.errors import InputError
from viscode.shards import FolderTaken, verify

LIBRARIES = {"matplotlib", "seaborn", "plotly", "pandas"}
# What each fault kind raises in the pinned library versions.
FAULT_ERRORS = {
    "wrong_column": {"KeyError", "ValueError"},
    "wrong_kwarg": {"AttributeError", "TypeError", "ValueError"},
    "bad_api": {"AttributeError", "TypeError", "OSError", "ValueError"},
    "missing_import": {"NameError"},
    "shape_mismatch": {"ValueError"},
    "mixed_libraries": {"AttributeError", "TypeError", "ValueError"},
    "wrong_dtype": {"TypeError", "UFuncTypeError"},
}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return list(synthesize(2000, seed=11))


@pytest.fixture(scope="module")
def warm():
    """The default 10 s limit, as the grid runs them: a 3D plotly figure alone takes Chromium's
    software WebGL 2-3 s to draw on a 2-core machine."""
    with Sandbox("warm", isolation="nsjail", memory_mb=512) as sb:
        yield sb


def test_same_seed_same_rows_and_other_seeds_differ():
    first = list(synthesize(200, seed=5))
    assert first == list(synthesize(200, seed=5))
    other = list(synthesize(200, seed=6))
    assert sum(a["code"] != b["code"] for a, b in zip(first, other)) > 190
    assert [r["source"] for r in first[:2]] == ["synth:5:0", "synth:5:1"]


def test_any_slice_is_the_tail_of_a_longer_run():
    full = list(synthesize(300, seed=9))
    assert list(synthesize(60, seed=9, start=240)) == full[240:]
    assert list(synthesize(1, seed=9, start=17)) == [full[17]]


def test_every_program_parses_and_its_metadata_matches_the_code(rows):
    for row in rows:
        tree = ast.parse(row["code"])
        assert row["libraries"] == plotting_libraries(tree), row["source"]
        assert row["id"] == code_id(row["code"]), row["source"]
        assert row["data_origin"] in ("inline", "generated")
        assert row["fault"] is None or row["fault"] in FAULTS


def test_programs_are_diverse(rows):
    libraries = Counter(lib for row in rows for lib in row["libraries"])
    assert set(libraries) == LIBRARIES and min(libraries.values()) > 150
    kinds = Counter(row["chart_kind"] for row in rows)
    assert len(kinds) >= 17 and min(kinds.values()) > 30
    assert 0.12 < sum(row["fault"] is not None for row in rows) / len(rows) < 0.18
    assert set(Counter(row["fault"] for row in rows)) == {None, *FAULTS}
    assert len({row["id"] for row in rows}) > 0.99 * len(rows)
    assert Counter(row["data_origin"] for row in rows)["inline"] > 400
    codes = [row["code"] for row in rows]
    assert sum("def main():" in c for c in codes) > 100 and sum("return " in c for c in codes) > 300
    assert sum("np.random.default_rng(" in c for c in codes) > 600 and sum("pd.date_range(" in c for c in codes) > 120
    assert sum(".melt(" in c for c in codes) > 100 and sum("plt.style.use(" in c for c in codes) > 100
    lines = sorted(c.count("\n") for c in codes)
    assert 8 <= lines[len(lines) // 10] and lines[len(lines) * 9 // 10] <= 50


def test_fault_rate_bounds():
    assert all(row["fault"] is None for row in synthesize(200, seed=1, fault_rate=0))
    assert all(row["fault"] in FAULTS for row in synthesize(200, seed=1, fault_rate=1))


@pytest.mark.parametrize("call, word", [
    (lambda: synthesize(-1), "count"),
    (lambda: synthesize(5, fault_rate=1.5), "fault_rate"),
    (lambda: write_synth(None, 0), "count"),
    (lambda: write_synth(None, 5, fault_rate=-0.1), "fault_rate"),
])
def test_bad_arguments_are_refused_with_the_argument_named(call, word):
    with pytest.raises(InputError, match=word):
        call()


def test_write_synth_writes_verifiable_shards_and_a_manifest(tmp_path):
    progress = []
    manifest = write_synth(tmp_path / "out", 120, seed=4, on_progress=lambda step, done, total: progress.append(done))
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == manifest
    assert manifest["kind"] == "candidates" and manifest["command"] == "candidates synth --count 120 --seed 4"
    assert manifest["config"] == {"count": 120, "seed": 4, "fault_rate": 0.15}
    counts = manifest["counts"]
    assert counts["generated"] == 120 and manifest["rows"] == 120 - counts["duplicate"]
    assert verify(tmp_path / "out", manifest["shards"]) == []
    table = pq.read_table(tmp_path / "out" / manifest["shards"][0]["name"])
    first_ids = list(dict.fromkeys(row["id"] for row in synthesize(120, seed=4)))
    assert table.column("id").to_pylist() == first_ids
    assert counts["faulty"] == sum(f is not None for f in table.column("fault").to_pylist())
    assert {"chart_kind", "data_origin", "fault", "libraries", "source"} <= set(table.column_names)
    assert progress and progress[-1] == 120
    assert write_synth(tmp_path / "out", 120, seed=4) == manifest  # the same command finds it done
    with pytest.raises(FolderTaken, match="holds a candidate set with other settings"):
        write_synth(tmp_path / "out", 10)
    assert write_synth(tmp_path / "out", 10, force=True)["rows"] <= 10


def test_duplicates_are_dropped_keeping_the_first(tmp_path, monkeypatch):
    made = list(synthesize(3, seed=2))
    twice = [made[0], made[1], {**made[0], "source": "synth:2:9"}, made[2]]
    monkeypatch.setattr(synth, "synthesize", lambda count, seed, fault_rate: iter(twice))
    manifest = write_synth(tmp_path, 4, seed=2)
    assert manifest["rows"] == 3 and manifest["counts"]["duplicate"] == 1
    sources = pq.read_table(tmp_path / manifest["shards"][0]["name"]).column("source").to_pylist()
    assert sources == ["synth:2:0", "synth:2:1", "synth:2:2"]


def _execution_sample(size: int = 60) -> list[dict]:
    """A fixed sample: first every row that adds a fault kind, chart kind or library not
    yet covered, then the earliest others."""
    candidates = list(synthesize(400, seed=2024, fault_rate=0.3))
    picked, covered = [], set()
    for row in candidates:
        keys = {("fault", row["fault"]), ("kind", row["chart_kind"]), *(("lib", lib) for lib in row["libraries"])}
        if not keys <= covered:
            picked.append(row)
            covered |= keys
    picked += [row for row in candidates if row not in picked][: size - len(picked)]
    return picked


def test_programs_run_in_the_sandbox_clean_ones_draw_faulty_ones_fail(warm):
    sample = _execution_sample()
    assert {row["fault"] for row in sample} == {None, *FAULTS}
    assert {lib for row in sample for lib in row["libraries"]} == LIBRARIES
    problems = []
    for row in sample:
        r = warm.run(row["code"], snippet_id=row["source"])
        if row["fault"] is None:
            drawn = r.images and all(img.png and img.png.startswith(b"\x89PNG") for img in r.images)
            if r.status != "ok" or not drawn:
                problems.append((row["source"], r.status, r.error_message, [i.render_error for i in r.images]))
        elif r.status != "error" or r.error_type not in FAULT_ERRORS[row["fault"]]:
            problems.append((row["source"], row["fault"], r.status, r.error_type, r.error_message))
    assert problems == []
