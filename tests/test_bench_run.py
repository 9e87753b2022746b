"""`viscode bench run` end to end: a scripted OpenAI-compatible server on loopback as the model
and the judge, every attempt executed in the real sandbox on an embedded grid; and a tiny model
that `viscode train` produced, generating on the CPU."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest
from viscode.bench.runner import BenchConfig, JudgeSettings, run_bench

from viscode.cli import main
from viscode.errors import InputError
from viscode.selfdebug import code_block

from .bench_server import BROKEN, CORRECT, BenchServer, make_tasks
from .png_helpers import crafted_png
from .train_helpers import make_curated

MODES = {"1": "correct", "2": "broken", "3": "fixed", "4": "noimage", "5": "down", "6": "correct"}
LIBS = ("matplotlib", "plotly")


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def server():
    with BenchServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def tasks(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tasks") / "tasks.jsonl"
    make_tasks(path, {**MODES, "7": "correct"}, broken_csv=("7",), noscore=("6",), ground_truth={"1": crafted_png(8, 8)})
    return path


def config(server: BenchServer, tasks: Path, output: Path, **overrides) -> BenchConfig:
    settings = {"output": output, "model": "scripted", "endpoint": server.url, "tasks": str(tasks),
                "libraries": LIBS, "self_debug": 2, "max_retries": 1, "workers": 2,
                "judge": JudgeSettings(server.url, "judge-model", 2.5, 10.0)} | overrides
    return BenchConfig(**settings)


@pytest.fixture(scope="module")
def run(server, tasks, tmp_path_factory) -> tuple[Path, dict, int]:
    out = tmp_path_factory.mktemp("bench") / "run"
    summary = run_bench(config(server, tasks, out))
    return out, summary, len(server.requests)


def attempts_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]


def test_pass_rates_per_round_are_exact(run):
    out, summary, _ = run
    assert summary["tasks"]["count"] == 6 and "does not parse" in summary["tasks"]["skipped"]["7"]
    for lib in LIBS:
        stats = summary["libraries"][lib]
        assert stats["n"] == 6
        assert stats["passed"] == [2, 3, 3]  # 1 and 6 at once; 3 after one repair
        assert stats["exec_pass"] == pytest.approx([2 / 6, 3 / 6, 3 / 6], abs=1e-4)
        lo, hi = stats["exec_pass_ci95"][0]
        assert lo < 2 / 6 < hi
    attempts = attempts_of(out)
    assert len(attempts) == summary["attempts"] == 2 * (6 + 4 + 3)  # failed items go on, one attempt a round
    assert {(a["task_id"], a["round"]) for a in attempts if a["passed"]} == {("1", 0), ("6", 0), ("3", 1)}
    assert all(a["images"] >= 1 and (out / a["image_files"][0]).exists() for a in attempts if a["passed"])
    noimage = [a for a in attempts if a["task_id"] == "4"]
    assert {a["status"] for a in noimage} == {"ok"} and {a["error"] for a in noimage} == {"Unexpected Error"}
    down = [a for a in attempts if a["task_id"] == "5"]
    assert len(down) == 6 and all(a["status"] == "not_run" and "http-500" in a["generation_error"] for a in down)
    assert summary["generation"]["failed"] == 6
    report = (out / "report.md").read_text()
    assert "scripted + Self Debug" in report and (out / "contact-sheet.png").stat().st_size > 0


def test_each_repair_request_carries_the_previous_code_and_real_traceback(run, server):
    repairs = [b for b in server.requests if "bench-mode:broken" in b["messages"][1]["content"]
               and "for managing dataframes and matplotlib" in b["messages"][1]["content"]]
    assert sorted(len(b["messages"]) for b in repairs) == [2, 4, 6]  # one attempt more each round
    last = max(repairs, key=lambda b: len(b["messages"]))["messages"]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert last[2]["content"] == last[4]["content"] == code_block(BROKEN)
    assert last[3]["content"].startswith("The above code failed with the following error:\nTraceback")
    assert last[5]["content"].startswith("The above code still failed with the following error:\n")
    for turn in (last[3], last[5]):
        assert "KeyError: 'no_such_column'" in turn["content"]
        assert turn["content"].endswith("Please provide a corrected version enclosed in ```python ... ```.")
    fixed = [b for b in server.requests if "bench-mode:fixed" in b["messages"][1]["content"] and len(b["messages"]) == 4]
    assert {b["messages"][2]["content"] for b in fixed} == {code_block(BROKEN)}


def test_judge_scores_passed_attempts_counts_missing_scores_and_cost(run, server):
    out, summary, _ = run
    attempts = attempts_of(out)
    judged = {(a["task_id"], a["library"], a["round"]): (a["task_score"], a["task_judge"]) for a in attempts}
    assert judged["1", "plotly", 0] == (80, "scored") and judged["3", "matplotlib", 1] == (80, "scored")
    assert judged["6", "matplotlib", 0] == (None, "no_score")
    assert judged["2", "plotly", 2] == (0, "not_passed")
    # only task 1 has a ground-truth image: a visual score for it alone
    assert {a["task_id"] for a in attempts if a["visual_judge"] is not None} == {"1"}
    assert judged["1", "plotly", 0] and attempts[0]["visual_score"] == 80
    stats = summary["libraries"]["matplotlib"]
    assert stats["task_score_mean"] == pytest.approx(round(160 / 6, 2)) and stats["judge_unscored"] == 1
    assert stats["task_good_share"] == pytest.approx(round(2 / 6, 4))
    assert stats["visual_score_mean"] == 80 and stats["visual_good_share"] == 1
    # (1, 6, 3 fixed) x 2 libraries for the task score, task 1 x 2 for the visual score, once each
    assert len(server.judged) == 8 == summary["judge"]["requests"]
    assert all(p["type"] == "image_url" for body in server.judged for p in body["messages"][1]["content"][1:])
    visual = [b for b in server.judged if len(b["messages"][1]["content"]) == 3]
    assert len(visual) == 2 and all(b["messages"][1]["content"][2]["image_url"]["url"].endswith(
        base64.b64encode(crafted_png(8, 8)).decode()) for b in visual)  # generated first, ground truth second
    assert summary["judge"]["cost_usd"] == pytest.approx((800 * 2.5 + 160 * 10) / 1e6)


def test_rerun_resumes_without_asking_or_executing_again(run, server, tasks):
    out, summary, asked = run
    before = (out / "attempts.jsonl").read_bytes()
    judged = len(server.judged)
    again = run_bench(config(server, tasks, out))
    assert len(server.requests) == asked and len(server.judged) == judged
    assert (out / "attempts.jsonl").read_bytes() == before
    assert again["libraries"] == summary["libraries"]
    manifest = json.loads((out / "work" / "exec-r0" / "grid" / "manifest.json").read_text())
    assert manifest["state"] == "complete" and manifest["rows_done"] == 10
    with pytest.raises(InputError, match="self_debug: 2 there, 1 now"):
        run_bench(config(server, tasks, out, self_debug=1))


def test_compare_of_a_run_with_itself_finds_no_difference(run, capsys):
    out, _, _ = run
    assert main(["bench", "compare", str(out), str(out), "--output", str(out.parent / "cmp")]) == 0
    result = json.loads((out.parent / "cmp" / "compare.json").read_text())
    assert result["libraries"]["matplotlib"]["difference"] == 0
    assert "no significant difference" in capsys.readouterr().out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_stops_before_any_work_with_exit_3(tasks, tmp_path, capsys):
    out = tmp_path / "never"
    code = main(["bench", "run", "--endpoint", f"http://127.0.0.1:{closed_port()}/v1", "--model-name", "m",
                 "--tasks", str(tasks), "--output", str(out)])
    assert code == 3 and not out.exists()
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["--libraries", "matplotlib,ggplot"], "unknown library ggplot"),
    (["--tasks", "missing.parquet"], "no such tasks file"),
    (["--self-debug", "-1"], "--self-debug must be 0 or more"),
])
def test_bad_input_is_one_line_and_exit_2(server, tasks, tmp_path, capsys, args, message):
    argv = ["bench", "run", "--endpoint", server.url, "--model-name", "m", "--tasks", str(tasks),
            "--output", str(tmp_path / "out"), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_output_folder_holding_other_files_is_refused(server, tasks, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    argv = ["bench", "run", "--endpoint", server.url, "--model-name", "m", "--tasks", str(tasks),
            "--output", str(tmp_path / "out")]
    assert main(argv) == 2
    assert "not a benchmark run" in capsys.readouterr().err
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny model that `viscode train` initialised and fine-tuned for a few steps."""
    root = tmp_path_factory.mktemp("trained")
    curated = make_curated(root / "curated", train=24, val=4)
    assert main(["train", "init", "--output", str(root / "init"), "--data", str(curated), "--vocab-size", "512"]) == 0
    assert main(["train", "run", "--model", str(root / "init"), "--data", str(curated), "--output", str(root / "run"),
                 "--max-steps", "3", "--batch-tokens", "1024", "--max-length", "1024", "--lr", "3e-3"]) == 0
    return root / "run" / "final"


@pytest.mark.slow  # trains a model first; the default run keeps under 15 minutes
def test_a_trained_tiny_model_generates_end_to_end_on_cpu(trained, tmp_path):
    out = tmp_path / "local"
    summary = run_bench(BenchConfig(output=out, model=str(trained), libraries=("matplotlib", "seaborn"), limit=2,
                                    self_debug=1, max_new_tokens=24, batch_size=3, workers=1))
    attempts = attempts_of(out)
    first = [a for a in attempts if a["round"] == 0]
    assert len(first) == 4 and all(a["generation_error"] is None and a["completion_tokens"] > 0 for a in first)
    assert all(a["status"] != "not_run" for a in attempts)  # every answer really ran in the sandbox
    for repair in (a for a in attempts if a["round"] == 1):
        earlier = next(a for a in first if (a["task_id"], a["library"]) == (repair["task_id"], repair["library"]))
        assert repair["messages"][2]["content"] == code_block(earlier["code"])
        assert repair["messages"][3]["content"].startswith("The above code failed with the following error:\n")
    assert summary["model"] == str(trained) and summary["libraries"]["seaborn"]["n"] == 2


@pytest.mark.slow
def test_a_model_folder_without_a_chat_template_is_refused(trained, tmp_path, capsys):
    import shutil

    bare = tmp_path / "bare"
    shutil.copytree(trained, bare)
    for name in ("chat_template.jinja", "chat_template.json"):
        (bare / name).unlink(missing_ok=True)
    config_file = bare / "tokenizer_config.json"
    settings = json.loads(config_file.read_text())
    settings.pop("chat_template", None)
    config_file.write_text(json.dumps(settings))
    assert main(["bench", "run", "--model", str(bare), "--output", str(tmp_path / "out"), "--limit", "1"]) == 2
    assert "no chat template" in capsys.readouterr().err


def test_correct_code_of_each_library_passes_in_the_sandbox_alone(tmp_path):
    """The scripted answers themselves are sound: a failure above is the runner's, not the script's."""
    from viscode.bench.execute import program
    from viscode.sandbox import Sandbox

    with Sandbox("warm", isolation="nsjail", timeout_s=10) as sb:
        for library, code in CORRECT.items():
            result = sb.run(program(None, code), files={"data.csv": b"x,y\n1,2\n"})
            assert result.status == "ok" and result.images, (library, result.traceback)
