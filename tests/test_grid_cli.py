"""The grid and candidates commands as operators use them: a driver killed with SIGKILL
and rerun, a job's status from its folder, and one-line errors with exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .grid_helpers import committed, result_ids, write_parquet_input

VISCODE = [sys.executable, "-m", "viscode.cli"]


def viscode(*args: str, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*VISCODE, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.slow
def test_driver_killed_then_rerun_resumes_exactly_once(tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 40, slow=range(40))
    out = tmp_path / "out"
    cmd = [*VISCODE, "grid", "run", str(src), "--output", str(out), "--chunk-size", "4", "--workers", "2"]
    driver = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "results").glob("*.parquet"))) < 3 and time.monotonic() < deadline:
            assert driver.poll() is None, f"driver exited early with {driver.returncode}"
            time.sleep(0.1)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        before = committed(out)
        assert 3 <= len(before) < 10
        status = viscode("grid", "status", str(out))
        assert status.returncode == 0 and "interrupted" in status.stdout, status.stdout + status.stderr
        rerun = viscode("grid", "run", str(src), "--output", str(out), "--chunk-size", "4", "--workers", "2")
        assert rerun.returncode == 0, rerun.stderr[-2000:]
    finally:
        try:
            os.killpg(driver.pid, signal.SIGKILL)  # workers orphaned by the killed driver, if still there
        except ProcessLookupError:
            pass
    after = committed(out)
    assert {name: after[name] for name in before} == before  # finished shards neither redone nor rewritten
    ids = result_ids(out)
    assert sorted(ids) == sorted(f"s{i}" for i in range(40)) and len(set(ids)) == 40
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "complete" and len(manifest["shards"]) == 10
    assert not list(out.rglob(".tmp-*"))
    assert "complete; 40/40 rows, 10/10 chunks" in viscode("grid", "status", str(out)).stdout


def test_unreachable_scheduler_fails_fast(tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 3)
    started = time.monotonic()
    proc = viscode("grid", "run", str(src), "--output", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1")
    assert proc.returncode == 3 and time.monotonic() - started < 30
    assert "cannot reach the scheduler at tcp://127.0.0.1:1" in one_line_error(proc)


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "text": ["x"]}), tmp_path / "in.parquet")
    proc = viscode("grid", "run", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "in.parquet: missing column(s) code (has: id, text)" in one_line_error(proc)
    assert not (tmp_path / "out").exists()
    proc = viscode("grid", "run", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "o"), "--timeout", "0")
    assert proc.returncode == 2 and "--timeout must be positive" in one_line_error(proc)
    proc = viscode("grid", "status", str(tmp_path))
    assert proc.returncode == 2 and "not a grid output folder" in one_line_error(proc)


def test_harvest_and_synth_commands(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "plot.py").write_text("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n")
    (tmp_path / "src" / "other.py").write_text("print('no plot here')\n")
    proc = viscode("candidates", "harvest", str(tmp_path / "src"), "--output", str(tmp_path / "h"))
    assert proc.returncode == 0, proc.stderr
    assert "2 files/records seen, 1 candidates kept" in proc.stdout and "no_plotting=1" in proc.stdout
    proc = viscode("candidates", "synth", "--count", "40", "--seed", "3", "--output", str(tmp_path / "s"))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["rows"] + manifest["counts"].get("duplicate", 0) == 40
    again = viscode("candidates", "synth", "--count", "40", "--seed", "3", "--output", str(tmp_path / "s"))
    assert again.returncode == 0 and json.loads((tmp_path / "s" / "manifest.json").read_text()) == manifest
    other = viscode("candidates", "synth", "--count", "40", "--seed", "4", "--output", str(tmp_path / "s"))
    assert other.returncode == 2 and "seed" in one_line_error(other) and "--force" in one_line_error(other)
    proc = viscode("candidates", "synth", "--output", str(tmp_path / "t"))
    assert proc.returncode == 2 and "--count" in one_line_error(proc)


def start_cluster(tmp_path: Path, nworkers: int = 1) -> tuple[str, list[subprocess.Popen]]:
    """`dask scheduler` + `viscode grid worker ADDRESS`, each in its own process group."""
    scheduler_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0",
                               "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    procs.append(subprocess.Popen([*VISCODE, "grid", "worker", address, "--nworkers", str(nworkers)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    return address, procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.slow
def test_existing_cluster_with_viscode_workers(tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 12)
    address, procs = start_cluster(tmp_path)
    try:
        proc = viscode("grid", "run", str(src), "--output", str(tmp_path / "out"), "--scheduler", address)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "12 rows in 1 chunks" in proc.stdout
        assert sorted(result_ids(tmp_path / "out")) == sorted(f"s{i}" for i in range(12))
    finally:
        stop(procs)


@pytest.mark.slow
def test_losing_the_scheduler_stops_the_driver_and_a_rerun_resumes(tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 40, slow=range(40))
    out = tmp_path / "out"
    address, procs = start_cluster(tmp_path)
    try:
        driver = subprocess.Popen([*VISCODE, "grid", "run", str(src), "--output", str(out), "--chunk-size", "4",
                                   "--scheduler", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not list((out / "results").glob("*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(procs[0].pid, signal.SIGKILL)
        lost = time.monotonic()
        _, stderr = driver.communicate(timeout=90)
        assert driver.returncode == 3 and time.monotonic() - lost < 60, stderr
        assert "rerun the same command to resume" in stderr and "Traceback" not in stderr, stderr
        assert json.loads((out / "manifest.json").read_text())["state"] == "failed"
    finally:
        stop(procs)
    rerun = viscode("grid", "run", str(src), "--output", str(out), "--chunk-size", "4", "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert sorted(result_ids(out)) == sorted(f"s{i}" for i in range(40))
