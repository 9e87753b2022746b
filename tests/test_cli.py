"""`viscode sandbox exec` and `viscode demo` as a user runs them."""

import json
import subprocess
import sys

import pytest

VISCODE = [sys.executable, "-m", "viscode.cli"]


def viscode(*args, **kw):
    return subprocess.run([*VISCODE, *args], check=False, capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture
def snippets(tmp_path):
    files = {
        "b_plot": "import matplotlib.pyplot as plt\nimport pandas as pd\ndf = pd.read_csv('data.csv')\nplt.plot(df.a, df.b)\n",
        "a_fail": "raise ValueError('nope')\n",
        "c_print": "print('hello')\n",
    }
    paths = []
    for name, code in files.items():
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        paths.append(path)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n2,5\n")
    return paths, data


def test_exec_json_lines_in_input_order(snippets, tmp_path):
    paths, data = snippets
    images = tmp_path / "imgs"
    proc = viscode("sandbox", "exec", *map(str, paths), "--json", "--data", str(data), "--images-dir", str(images),
                   "--isolation", "nsjail", "--timeout", "5")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["b_plot", "a_fail", "c_print"]
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    img = rows[0]["images"][0]
    assert img["png"] is None and (images / "b_plot-0.png").read_bytes().startswith(b"\x89PNG")
    assert img["path"] == str(images / "b_plot-0.png")
    assert "3 snippets" in proc.stderr and "ok=2" in proc.stderr


def test_exec_table_and_cold_mode(snippets):
    paths, _data = snippets
    proc = viscode("sandbox", "exec", str(paths[2]), "--mode", "cold", "--isolation", "nsjail")
    assert proc.returncode == 0 and "c_print" in proc.stdout and "ok" in proc.stdout


def test_missing_file_is_a_one_line_error(tmp_path):
    proc = viscode("sandbox", "exec", str(tmp_path / "nope.py"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope.py'}: no such file"
    assert "Traceback" not in proc.stderr


def test_bad_option_value(snippets):
    proc = viscode("sandbox", "exec", str(snippets[0][0]), "--timeout", "-1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.slow  # the whole loop end to end; `make test` runs it
def test_demo_synthesizes_runs_the_grid_and_curates(tmp_path):
    proc = viscode("demo", "--count", "60", "--train-steps", "4", "--workdir", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    assert "grid results by status" in proc.stdout and "results:" in proc.stdout
    manifest = json.loads((tmp_path / "demo" / "grid" / "manifest.json").read_text())
    assert manifest["state"] == "complete" and manifest["rows_done"] == manifest["rows"] >= 55
    assert manifest["status_counts"]["ok"] > manifest["status_counts"]["error"] > 0
    assert "curation, stage by stage" in proc.stdout and "Counts at every stage" in proc.stdout
    curated = json.loads((tmp_path / "demo" / "curated" / "manifest.json").read_text())
    assert curated["counts"]["single"] >= 45 and curated["counts"]["repair"] >= 1
    assert "loss by step: 1:" in proc.stdout and "final model:" in proc.stdout
    assert (tmp_path / "demo" / "train" / "final" / "model.safetensors").is_file()


def test_only_our_input_errors_are_one_line_exit_2(tmp_path, monkeypatch, capsys):
    """A ValueError raised by a library we call (pyarrow's ArrowInvalid, a JSONDecodeError) is a
    bug of ours or a corrupt file nobody named: it keeps its traceback (exit 1), never exit 2."""
    import json as json_module

    import pyarrow as pa
    from viscode.grid import job

    from viscode import cli

    (tmp_path / "in.jsonl").write_text('{"id": "a", "code": "print(1)"}\n')
    for error in (pa.ArrowInvalid("Parquet magic bytes not found"), json_module.JSONDecodeError("x", "{", 0)):
        def boom(*args, error=error, **kwargs):
            raise error
        monkeypatch.setattr(job, "plan", boom)
        with pytest.raises(type(error)):
            cli.main(["grid", "run", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out")])
    monkeypatch.undo()
    assert cli.main(["grid", "run", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing.jsonl'}: no such file or folder"


def test_sandbox_unavailable_is_one_line_exit_3(tmp_path, monkeypatch, capsys):
    """Without nsjail (simulated: nsjail_problem gives a reason, in this process and so in the in-process
    grid workers below), every command that needs the jail stops with exit 3 and one line. `sandbox exec`
    under the default --isolation auto falls back to plain processes instead, by design."""
    import importlib

    from distributed import LocalCluster
    from viscode.grid import cli as grid_cli
    from viscode.sandbox import cli as sandbox_cli

    from viscode import cli

    reason = "nsjail isolation needs root (simulated)"
    for module in (importlib.import_module("viscode.sandbox.sandbox"), sandbox_cli, grid_cli):
        monkeypatch.setattr(module, "nsjail_problem", lambda: reason)
    monkeypatch.setattr(sandbox_cli, "ensure_font_cache", lambda isolation: tmp_path)  # prepare's fallback cache
    snippet = tmp_path / "s.py"
    snippet.write_text("print(1)\n")
    for argv in (["sandbox", "exec", str(snippet), "--isolation", "nsjail"], ["sandbox", "prepare"],
                 ["grid", "worker", "tcp://127.0.0.1:1"]):
        assert cli.main(argv) == 3, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("sandbox unavailable:") and reason in err and "\n" not in err, (argv, err)

    (tmp_path / "in.jsonl").write_text('{"id": "a", "code": "print(1)"}\n')
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                      dashboard_address=":0") as cluster:
        code = cli.main(["grid", "run", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out"),
                         "--scheduler", cluster.scheduler_address])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("grid stopped: worker ") and reason in err, err
