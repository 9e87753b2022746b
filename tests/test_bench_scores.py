"""Benchmark aggregates, run comparison and report, on hand-built attempt lists whose right
answers are worked out by hand (or are the published formulas' known values)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from rich.console import Console
from viscode.bench.compare import compare, compare_table, mcnemar_exact
from viscode.bench.report import write_report
from viscode.bench.scores import read_attempts, summarize, summary_table, wilson

from viscode.errors import InputError


def attempt(task: str, rnd: int, passed: bool, library: str = "matplotlib", *, task_score: int | None = None,
            visual_score: int | None = None, task_judge: str | None = None, visual_judge: str | None = None,
            **extra) -> dict:
    """One attempts.jsonl row; a failed one is a ValueError unless `extra` says otherwise."""
    row = {
        "task_id": task, "library": library, "round": rnd, "messages": [], "response": "", "generation_error": None,
        "code": f"import {library}", "status": "ok" if passed else "error",
        "error_type": None if passed else "ValueError", "error": "" if passed else "Traceback ...",
        "passed": passed, "images": int(passed), "image_files": [], "duration_s": 0.5, "generation_s": 1.0,
        "prompt_tokens": 100, "completion_tokens": 50, "task_score": task_score, "visual_score": visual_score,
        "task_judge": task_judge, "visual_judge": visual_judge,
    }
    row.update(extra)
    return row


def staircase(library: str = "matplotlib") -> list[dict]:
    """4 items over 3 rounds: pass r0; fail r0, pass r1; fail r0 and r1, pass r2; fail all."""
    return [
        attempt("1", 0, True, library),
        attempt("2", 0, False, library), attempt("2", 1, True, library),
        attempt("3", 0, False, library), attempt("3", 1, False, library), attempt("3", 2, True, library),
        attempt("4", 0, False, library), attempt("4", 1, False, library), attempt("4", 2, False, library),
    ]


def write_run(folder: Path, attempts: list[dict], **settings) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "attempts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in attempts))
    summary = {"model": folder.name, "settings": {"self_debug": 0, "tasks_digest": "d1", **settings}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def rendered(table) -> str:
    console = Console(record=True, width=250)
    console.print(table)
    return console.export_text()


# --- Wilson --------------------------------------------------------------------------------------

def test_wilson_known_values():
    assert [round(x, 4) for x in wilson(8, 10)] == [0.4902, 0.9433]
    assert [round(x, 4) for x in wilson(0, 10)] == [0.0, 0.2775]
    assert [round(x, 4) for x in wilson(10, 10)] == [0.7225, 1.0]
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


# --- summarize: exec pass ------------------------------------------------------------------------

def test_exec_pass_is_cumulative_per_round():
    s = summarize(staircase(), ["matplotlib"], rounds=3)["libraries"]["matplotlib"]
    assert s["n"] == 4
    assert s["passed"] == [1, 2, 3]
    assert s["exec_pass"] == [0.25, 0.5, 0.75]
    assert s["exec_pass_ci95"][2] == [round(x, 4) for x in wilson(3, 4)]
    assert s["errors"] == {"ValueError": 1}


def test_exec_pass_has_one_entry_per_round_even_without_later_attempts():
    attempts = [attempt("1", 0, True), attempt("2", 0, True)]
    s = summarize(attempts, ["matplotlib"], rounds=4)["libraries"]["matplotlib"]
    assert s["exec_pass"] == [1.0, 1.0, 1.0, 1.0]
    assert len(s["exec_pass_ci95"]) == 4


def test_rounds_beyond_the_setting_and_other_libraries_are_left_out():
    s = summarize(staircase() + [attempt("9", 0, True, "plotly")], ["matplotlib", "seaborn"], rounds=2)
    assert list(s["libraries"]) == ["matplotlib", "seaborn"]
    assert s["libraries"]["matplotlib"]["exec_pass"] == [0.25, 0.5]
    assert s["libraries"]["seaborn"]["n"] == 0
    assert s["libraries"]["seaborn"]["exec_pass"] == [0.0, 0.0]


# --- summarize: scores ---------------------------------------------------------------------------

def test_scores_use_the_latest_attempt_per_round_and_missing_scores_count_as_zero():
    attempts = [
        attempt("1", 0, True, task_score=80, task_judge="scored", visual_score=70, visual_judge="scored"),
        # failed r0 (0 without asking), passed r1 but the judge's reply had no score: 0 in both rounds
        attempt("2", 0, False, task_score=0, task_judge="not_passed", visual_score=0, visual_judge="not_passed"),
        attempt("2", 1, True, task_score=None, task_judge="no_score", visual_score=90, visual_judge="scored"),
        # failed r0, passed r1 with 90: 0 then 90
        attempt("3", 0, False, task_score=0, task_judge="not_passed", visual_score=0, visual_judge="not_passed"),
        attempt("3", 1, True, task_score=90, task_judge="scored", visual_score=None, visual_judge="error"),
    ]
    s = summarize(attempts, ["matplotlib"], rounds=2)["libraries"]["matplotlib"]
    assert s["task_score_by_round"] == [26.67, 56.67]  # 80/3, (80 + 0 + 90)/3
    assert s["task_score_mean"] == 56.67
    assert s["task_good_share_by_round"] == [0.3333, 0.6667]
    assert s["task_good_share"] == 0.6667
    assert s["visual_score_by_round"] == [23.33, 53.33]  # 70/3, (70 + 90 + 0)/3
    assert s["visual_good_share"] == 0.3333
    assert s["judge_unscored"] == 2
    assert s["errors"] == {}


def test_no_judge_gives_null_score_fields():
    attempts = [attempt("1", 0, True, task_score=100, task_judge="scored"), attempt("2", 0, False)]
    s = summarize(attempts, ["matplotlib"], rounds=1)["libraries"]["matplotlib"]
    assert s["task_score_mean"] == 50.0 and s["task_good_share"] == 0.5
    for key in ("visual_score_mean", "visual_good_share", "visual_score_by_round", "visual_good_share_by_round"):
        assert s[key] is None
    bare = summarize([attempt("1", 0, True)], ["matplotlib"], rounds=1)["libraries"]["matplotlib"]
    assert bare["task_score_mean"] is None and bare["task_score_by_round"] is None


def test_failure_counts_use_the_final_state():
    attempts = [
        attempt("1", 0, False, error_type="KeyError"), attempt("1", 1, False, status="ok", error_type=None, images=0),
        attempt("2", 0, False, status="timeout", error_type=None),
        attempt("3", 0, False, generation_error="HTTP 500", status="not_run", error_type=None),
        attempt("4", 0, True, task_score=0, task_judge="wrong_library"),
        attempt("5", 0, False, error_type="TypeError"), attempt("5", 1, True),
    ]
    s = summarize(attempts, ["matplotlib"], rounds=2)["libraries"]["matplotlib"]
    assert s["errors"] == {"NoImage": 1, "not_run": 1, "timeout": 1}
    assert s["generation_failed"] == 1
    assert s["wrong_library"] == 1
    assert s["passed"] == [1, 2]


def test_summary_table_shows_each_round_and_dashes_for_missing_scores():
    summary = summarize(staircase(), ["matplotlib"], rounds=3)
    text = rendered(summary_table(summary))
    assert "25.0 -> 50.0 -> 75.0" in text
    assert "- · -" in text


# --- compare -------------------------------------------------------------------------------------

def test_mcnemar_exact_known_value():
    assert round(mcnemar_exact(10, 2), 4) == 0.0386  # 2 * (1 + 12 + 66) / 2**12
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0


def test_compare_identical_runs(tmp_path):
    attempts = staircase() + staircase("plotly")
    a = write_run(tmp_path / "a", attempts, self_debug=2)
    b = write_run(tmp_path / "b", attempts, self_debug=2)
    result = compare(a, b)
    assert list(result["libraries"]) == ["matplotlib", "plotly"]
    r = result["libraries"]["matplotlib"]
    assert (r["n"], r["pass_a"], r["pass_b"], r["difference"]) == (4, 0.75, 0.75, 0.0)
    assert r["ci95"] == [0.0, 0.0] and r["mcnemar_p"] == 1.0
    assert r["verdict"] == "no significant difference"
    assert result["notes"] == []
    assert compare(a, b, round=0)["libraries"]["matplotlib"]["pass_a"] == 0.25


def test_compare_clear_win_is_significant_and_deterministic(tmp_path):
    a = write_run(tmp_path / "a", [attempt(str(i), 0, False) for i in range(40)])
    b = write_run(tmp_path / "b", [attempt(str(i), 0, True) for i in range(40)])
    r = compare(a, b)["libraries"]["matplotlib"]
    assert r["verdict"] == "B better"
    assert r["ci95"][0] > 0 and r["mcnemar_p"] < 1e-6
    assert (r["b_only"], r["a_only"], r["difference"]) == (40, 0, 1.0)
    assert compare(b, a)["libraries"]["matplotlib"]["verdict"] == "A better"


def test_compare_bootstrap_is_seeded(tmp_path):
    outcomes_a = [i % 3 == 0 for i in range(60)]
    outcomes_b = [i % 2 == 0 for i in range(60)]
    a = write_run(tmp_path / "a", [attempt(str(i), 0, p) for i, p in enumerate(outcomes_a)])
    b = write_run(tmp_path / "b", [attempt(str(i), 0, p) for i, p in enumerate(outcomes_b)])
    first, again = compare(a, b, seed=7), compare(a, b, seed=7)
    assert first == again
    lo, hi = first["libraries"]["matplotlib"]["ci95"]
    assert lo < first["libraries"]["matplotlib"]["difference"] < hi


def test_compare_notes_what_differs(tmp_path):
    a = write_run(tmp_path / "a", staircase(), self_debug=2)
    b = write_run(tmp_path / "b", staircase()[:3] + [attempt("7", 0, True)], self_debug=0, tasks_digest="d2")
    result = compare(a, b)
    notes = "\n".join(result["notes"])
    assert "different task sets: A d1, B d2" in notes
    assert "different self-debug rounds: A 2, B 0" in notes
    assert "2 items only in A" in notes and "1 items only in B" in notes
    assert result["libraries"]["matplotlib"]["n"] == 2
    text = rendered(compare_table(result))
    assert "matplotlib" in text and "no significant difference" in text


def test_compare_input_errors(tmp_path):
    a = write_run(tmp_path / "a", [attempt("1", 0, True)])
    b = write_run(tmp_path / "b", [attempt("2", 0, True)])
    with pytest.raises(InputError, match="no item"):
        compare(a, b)
    with pytest.raises(InputError, match="no attempts.jsonl"):
        compare(a, tmp_path / "missing")
    (tmp_path / "b" / "attempts.jsonl").write_text(json.dumps(attempt("1", 0, True)) + "\n{not json\n")
    with pytest.raises(InputError, match=":2: not valid JSON"):
        compare(a, b)
    with pytest.raises(InputError, match="round"):
        compare(a, a, round="last")


# --- report --------------------------------------------------------------------------------------

def save_png(path: Path, color: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(2, 1.5), dpi=50)
    FigureCanvasAgg(fig)
    fig.add_subplot().bar([1, 2, 3], [3, 1, 2], color=color)
    fig.savefig(path)


def report_run(folder: Path) -> list[dict]:
    """2 matplotlib items: one passes at once (task 80, visual 70), one on the repair (task 90, visual 60)."""
    save_png(folder / "images" / "1-matplotlib-r0-0.png", "tab:blue")
    save_png(folder / "images" / "2-matplotlib-r1-0.png", "tab:red")
    return [
        attempt("1", 0, True, task_score=80, task_judge="scored", visual_score=70, visual_judge="scored",
                image_files=["images/1-matplotlib-r0-0.png"], duration_s=2.5),
        attempt("2", 0, False, task_score=0, task_judge="not_passed", visual_score=0, visual_judge="not_passed"),
        attempt("2", 1, True, task_score=90, task_judge="scored", visual_score=60, visual_judge="scored",
                image_files=["images/2-matplotlib-r1-0.png"]),
    ]


def test_write_report_has_the_paper_table_and_a_contact_sheet(tmp_path):
    attempts = report_run(tmp_path)
    (tmp_path / "attempts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in attempts))
    summary = {**summarize(read_attempts(tmp_path), ["matplotlib"], rounds=2), "model": "VisCoder-7B",
               "settings": {"self_debug": 1, "tasks_digest": "d1"}, "generation": {"requests": 3, "cost_usd": 0.0123}}
    path = write_report(tmp_path, summary, attempts)
    assert path == tmp_path / "report.md"
    text = path.read_text()
    assert text.startswith("# PandasPlotBench: VisCoder-7B")
    assert "| Model | Matplotlib |" in text
    assert "| VisCoder-7B | 50.0 · 35, 40 · 0%, 50% |" in text
    assert "| VisCoder-7B + Self Debug | 100.0 · 65, 85 · 0%, 100% |" in text
    assert "![" in text and "(contact-sheet.png)" in text
    assert "| ValueError | 1 | 1 |" in text
    assert "requests: 3" in text and "cost_usd: 0.0123" in text
    sheet = tmp_path / "contact-sheet.png"
    assert sheet.stat().st_size > 0
    with Image.open(sheet) as image:
        assert image.size[0] > 0 and image.size[1] > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left behind


def test_write_report_without_images_or_self_debug(tmp_path):
    (tmp_path / "contact-sheet.png").write_bytes(b"stale")
    attempts = [attempt("1", 0, True), attempt("2", 0, False)]
    summary = {**summarize(attempts, ["matplotlib", "plotly"], rounds=1), "model": "m", "settings": {"self_debug": 0}}
    text = write_report(tmp_path, summary, attempts).read_text()
    assert "| m | 50.0 · -, - · -, - | - |" in text
    assert "Self Debug" not in text
    assert "no contact sheet" in text
    assert not (tmp_path / "contact-sheet.png").exists()


def test_visual_score_averages_only_tasks_with_a_ground_truth_image():
    attempts = [attempt("1", 0, True, task_score=90, task_judge="scored", visual_score=60, visual_judge="scored"),
                attempt("2", 0, False, task_score=0, task_judge="not_passed", visual_score=0, visual_judge="not_passed"),
                attempt("3", 0, True, task_score=80, task_judge="scored")]  # no ground truth: no visual verdict
    s = summarize(attempts, ["matplotlib"], rounds=1)["libraries"]["matplotlib"]
    assert s["visual_score_mean"] == 30.0 and s["visual_good_share"] == 0.0
    assert s["task_score_mean"] == pytest.approx(56.67)
