"""Curation on real grid output: synthesized programs run in the sandbox grid, repair
variants run on the grid again, the CLI as a user runs it, and an LLM endpoint
stood in for by a local server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from viscode.curation.llm import LLMConfig
from viscode.curation.pipeline import CurationConfig, curate
from viscode.curation.pull import load_shards
from viscode.curation.repair import FAULT_KINDS
from viscode.grid.candidates.synth import write_synth
from viscode.grid.job import run_grid

from tests.llm_server import FakeLLM, expected_parts

VISCODE = [sys.executable, "-m", "viscode.cli"]
FEEDBACK_WORDING = "The above code failed with the following error:\n"


def viscode(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*VISCODE, *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    """Candidates as a researcher writes them with polars (large_string columns, large lists)."""
    base = tmp_path_factory.mktemp("grid")
    write_synth(base / "synth", 48, seed=3)
    (base / "candidates").mkdir()
    pl.read_parquet(base / "synth" / "*.parquet").write_parquet(base / "candidates" / "candidates.parquet")
    run_grid([str(base / "candidates")], base / "grid", workers=2)
    return base / "grid"


@pytest.fixture(scope="module")
def with_repairs(grid, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("curated") / "out"
    return out, curate([grid], out, CurationConfig(repair_fraction=0.5, workers=2))


def test_repair_dialogues_carry_the_real_traceback(with_repairs):
    out, report = with_repairs
    stage = next(s for s in report.stages if s.name == "repair dialogues")
    assert stage.kept >= 5 and stage.input == stage.kept + sum(stage.dropped.values())
    rows = load_shards(out).collect()
    singles = {r["id"]: r for r in rows.filter(pl.col("kind") == "single").iter_rows(named=True)}
    repairs = rows.filter(pl.col("kind") == "repair")
    assert repairs.height == stage.kept
    for r in repairs.iter_rows(named=True):
        user, faulty, feedback, fixed = r["messages"]
        assert [m["role"] for m in r["messages"]] == ["user", "assistant", "user", "assistant"]
        source = singles[r["provenance"]["snippet_id"]]
        assert user["content"] == source["instruction"] == r["instruction"]
        assert fixed["content"] == source["messages"][1]["content"] and r["code"] == source["code"]
        assert faulty["content"] != fixed["content"] and faulty["content"].startswith("```python\n")
        assert feedback["content"].startswith(FEEDBACK_WORDING)
        assert "Error" in feedback["content"] and 'File "' in feedback["content"]  # a real traceback
        assert r["fault"] in FAULT_KINDS
        assert r["image"] == source["image"] and r["split"] == source["split"]
    repair_grid = json.loads((out / "manifest.json").read_text())["repair_grid"]
    assert repair_grid["variants"] == stage.input - stage.dropped.get("no_variant", 0) - stage.dropped.get(
        "duplicate_variant", 0)
    assert repair_grid["status_counts"]["error"] == stage.kept and len(repair_grid["job"]) == 64


def test_rerun_gives_byte_identical_shards(grid, with_repairs, tmp_path):
    out, _ = with_repairs
    curate([grid], tmp_path / "again", CurationConfig(repair_fraction=0.5, workers=2))
    first = json.loads((out / "manifest.json").read_text())["shards"]
    second = json.loads((tmp_path / "again" / "manifest.json").read_text())["shards"]
    assert [(s["name"], s["sha256"]) for s in first] == [(s["name"], s["sha256"]) for s in second]


def test_card_counts_every_stage(with_repairs):
    out, report = with_repairs
    card = (out / "card.md").read_text()
    for stage in report.stages:
        assert stage.name in card
    assert (out / "card" / "contact_sheet.png").is_file()


def test_llm_instructions_from_an_endpoint(grid, tmp_path):
    with FakeLLM() as server:
        config = CurationConfig(repair_fraction=0, llm=LLMConfig(endpoint=server.url, model="stand-in",
                                                                 cache_dir=tmp_path / "cache"))
        curate([grid], tmp_path / "out", config)
        requests = server.count
    rows = load_shards(tmp_path / "out").collect()
    assert requests == rows.height > 0
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["llm"]["requests"] == requests
    assert set(rows["instruction_source"]) == {"llm"}
    for r in rows.iter_rows(named=True):
        assert expected_parts(r["code"])["plot_description"] in r["instruction"]


@pytest.mark.parametrize("mode", ["timeout", "garbage"])
def test_a_failing_endpoint_falls_back_to_rules(grid, tmp_path, mode):
    with FakeLLM(mode, stall_s=1.0) as server:
        config = CurationConfig(repair_fraction=0, llm=LLMConfig(
            endpoint=server.url, model="stand-in", cache_dir=tmp_path / "cache", timeout_s=0.2, max_retries=1,
            backoff_s=0.01, max_consecutive_fallbacks=1000))
        curate([grid], tmp_path / "out", config)
    rows = load_shards(tmp_path / "out").collect()
    assert rows.height > 0 and set(rows["instruction_source"]) == {"rules"}


def test_cli_curates_imports_code_feedback_and_pulls(grid, tmp_path):
    dialogues = tmp_path / "feedback.jsonl"
    python = [{"role": "user", "content": "Plot y = x squared."},
              {"role": "assistant", "content": "```python\nimport matplotlib.pyplot as plt\nplt.plot(x)\n```"},
              {"role": "user", "content": "NameError: name 'x' is not defined"},
              {"role": "assistant", "content": "```python\nimport matplotlib.pyplot as plt\nx = range(9)\n"
                                               "plt.plot(x, [v * v for v in x])\n```"}]
    javascript = [dict(m, content=m["content"].replace("```python", "```javascript")) for m in python]
    dialogues.write_text("\n".join(json.dumps({"id": f"cf{i}", "messages": m})
                                   for i, m in enumerate([python, javascript])) + "\n{not json\n")
    out = tmp_path / "out"
    proc = viscode("curate", str(grid), "--output", str(out), "--repair-fraction", "0", "--code-feedback",
                   str(dialogues), "--cap-library", "plotly=2")
    assert proc.returncode == 0, proc.stderr
    assert "curation, stage by stage" in proc.stdout and "code-feedback import" in proc.stdout
    rows = load_shards(out).collect()
    imported = rows.filter(pl.col("instruction_source") == "import")
    assert imported.height == 1 and imported["messages"][0].to_list() == python
    assert rows.filter(pl.col("library") == "plotly").height <= 2

    pulled = tmp_path / "pulled"
    proc = viscode("shards", "pull", str(out), "--output", str(pulled), "--kind", "repair")
    assert proc.returncode == 0, proc.stderr
    assert load_shards(pulled).collect()["kind"].to_list() == ["repair"]


def test_cli_bad_input_is_one_line(tmp_path):
    (tmp_path / "nothing").mkdir()
    proc = viscode("curate", str(tmp_path / "nothing"), "--output", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no manifest.json" in proc.stderr
    proc = viscode("curate", str(tmp_path / "nothing"), "--output", str(tmp_path / "out"), "--instructions", "llm")
    assert proc.returncode == 2 and "--endpoint" in proc.stderr
