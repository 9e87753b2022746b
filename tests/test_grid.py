"""The grid on a real embedded Dask cluster with real nsjail sandboxes: results, manifest,
resume, and exactly-once under worker deaths and a chunk that keeps killing workers."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from distributed import WorkerPlugin
from viscode.grid.cluster import connect
from viscode.grid.executor import SandboxSettings
from viscode.grid.job import run_grid
from viscode.grid.status import job_status

from viscode.shards import FolderTaken, verify

from .grid_helpers import committed, logged_names, result_ids, write_jsonl_input, write_parquet_input

SETTINGS = SandboxSettings("warm", timeout_s=5, memory_mb=512)


@pytest.fixture(scope="module")
def client():
    with connect(workers=2, dashboard_address=":0") as c:
        yield c


class KillWorkerDuring(WorkerPlugin):
    """Test fault: the worker process dies 0.5 s into a chunk whose name contains
    `needle`, at most `times` times in all (counted in files, across restarts). The tests
    make that chunk's rows sleep 2.4 s in all, so the kill lands mid-chunk on any machine:
    a slower or busier one only makes the chunk longer."""

    def __init__(self, needle: str, marks: str, times: int):
        self.needle, self.marks, self.times = needle, marks, times
        self.name = f"kill-{needle}"

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or self.needle not in str(key):
            return
        done = len(os.listdir(self.marks))
        if done < self.times:
            Path(self.marks, f"kill-{done}-{os.getpid()}").touch()
            threading.Timer(0.5, os._exit, (1,)).start()


def test_runs_every_row_once_with_inputs_carried(client, tmp_path):
    pq_in = write_parquet_input(tmp_path / "a.parquet", 30)
    js_in = write_jsonl_input(tmp_path / "b.jsonl", 12)
    out = tmp_path / "out"
    state = run_grid([str(pq_in), str(js_in)], out, settings=SETTINGS, chunk_size=8, client=client)
    assert state.rows_done == 42 and state.chunks_total == 4 + 2
    ids = result_ids(out)
    assert sorted(ids) == sorted([f"s{i}" for i in range(30)] + [f"j{i}" for i in range(12)])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "complete" and manifest["rows"] == 42
    assert verify(out / "results", manifest["shards"]) == []
    assert sum(s["rows"] for s in manifest["shards"]) == 42
    errors = sum(1 for i in range(30) if i % 5 == 4) + sum(1 for i in range(12) if i % 5 == 4)
    assert manifest["status_counts"] == {"error": errors, "ok": 42 - errors}
    table = pq.read_table(out / "results" / manifest["shards"][0]["name"])
    row = table.slice(0, 1).to_pylist()[0]
    assert row["id"] == "s0" and row["source"] == "test:s0" and row["licence"] == "mit"
    assert row["status"] == "ok" and row["isolation"] == "nsjail" and row["schema_version"] == 1
    image = row["images"][0]
    assert image["png"][:8] == b"\x89PNG\r\n\x1a\n" and image["width"] > 0 and image["artists"] == 1
    failing = table.slice(4, 1).to_pylist()[0]
    assert failing["status"] == "error" and failing["error_type"] == "IndexError" and "snippet.py" in failing["traceback"]
    jsonl_shard = next(s["name"] for s in manifest["shards"] if s["name"].startswith("b-"))
    assert pq.read_table(out / "results" / jsonl_shard).column("repo").to_pylist()[:3] == ["r0", "r1", "r2"]
    assert not list(out.rglob(".tmp-*"))
    st = job_status(out)
    assert (st.state, st.rows_done, st.chunks_done) == ("complete", 42, 6)


def test_rerun_resumes_without_rewriting_finished_shards(client, tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 24)
    out = tmp_path / "out"
    run_grid([str(src)], out, settings=SETTINGS, chunk_size=6, client=client)
    before = committed(out)
    lost = sorted(before)[1]
    (out / "results" / lost).unlink()  # as if the driver died before this chunk committed
    (out / "results" / f".tmp-{lost}.crashed").write_bytes(b"half a shard")
    state = run_grid([str(src)], out, settings=SETTINGS, chunk_size=6, client=client)
    after = committed(out)
    assert state.chunks_resumed == 3 and state.rows_this_run == 6
    assert {k: v for k, v in after.items() if k != lost} == {k: v for k, v in before.items() if k != lost}
    assert sorted(result_ids(out)) == sorted(f"s{i}" for i in range(24))
    assert not list(out.rglob(".tmp-*"))
    with pytest.raises(FolderTaken, match="holds a grid job with other settings"):
        run_grid([str(src)], out, settings=SETTINGS, chunk_size=8, client=client)
    assert committed(out) == after
    state = run_grid([str(src)], out, settings=SETTINGS, chunk_size=8, client=client, force=True)
    assert state.chunks_resumed == 0 and len(committed(out)) == 3
    assert sorted(result_ids(out)) == sorted(f"s{i}" for i in range(24))


def test_worker_killed_mid_chunk_is_retried_elsewhere(client, tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 24, slow=range(6, 12))
    out = tmp_path / "out"
    marks = tmp_path / "marks"
    marks.mkdir()
    victim = "000001"
    client.register_plugin(KillWorkerDuring(victim, str(marks), times=1))
    try:
        state = run_grid([str(src)], out, settings=SETTINGS, chunk_size=6, client=client)
    finally:
        client.unregister_worker_plugin(f"kill-{victim}")
    assert len(os.listdir(marks)) == 1
    assert state.retries == 1 and state.quarantined == []  # only the victim chunk was charged
    ids = result_ids(out)
    assert sorted(ids) == sorted(f"s{i}" for i in range(24)) and len(ids) == len(set(ids))
    assert json.loads((out / "manifest.json").read_text())["status_counts"].get("sandbox_error") is None


@pytest.mark.slow
def test_chunk_that_keeps_killing_workers_is_quarantined(client, tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 24, slow=range(6, 12))
    out = tmp_path / "out"
    marks = tmp_path / "marks"
    marks.mkdir()
    poison = "000001"  # not the last chunk: others wait behind it and must not be blamed
    client.register_plugin(KillWorkerDuring(poison, str(marks), times=100))
    try:
        state = run_grid([str(src)], out, settings=SETTINGS, chunk_size=6, client=client, max_attempts=2)
    finally:
        client.unregister_worker_plugin(f"kill-{poison}")
    assert len(os.listdir(marks)) == 2 and state.retries == 2  # two attempts, then quarantine
    assert len(state.quarantined) == 1 and poison in state.quarantined[0]
    table = pq.read_table(out / "results" / state.quarantined[0])
    assert set(table.column("status").to_pylist()) == {"sandbox_error"}
    assert set(table.column("error_type").to_pylist()) == {"ChunkQuarantined"}
    assert "its worker died 2 times" in table.column("error_message")[0].as_py()
    assert sorted(result_ids(out)) == sorted(f"s{i}" for i in range(24))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status_counts"]["sandbox_error"] == 6 and manifest["quarantined"] == state.quarantined
    assert logged_names(out) == set(committed(out))
    resumed = run_grid([str(src)], out, settings=SETTINGS, chunk_size=6, client=client)
    assert resumed.chunks_resumed == 4 and resumed.quarantined == state.quarantined
