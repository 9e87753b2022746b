"""Grid input checks and the worker's own decisions, without a cluster: every bad input
is refused before any work with one line naming the file; the isolation self-test
refuses a sandbox that leaks."""

from __future__ import annotations

import json
import socket

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from viscode.grid.executor import IsolationRefused, run_snippets, self_test
from viscode.grid.inputs import InputError, auto_chunk_size, plan, read_chunk
from viscode.sandbox import Sandbox

from .grid_helpers import write_jsonl_input, write_parquet_input


def test_plan_is_deterministic_and_chunks_cover_every_row(tmp_path):
    a = write_parquet_input(tmp_path / "a.parquet", 50, row_group_size=7)
    b = write_jsonl_input(tmp_path / "b.jsonl", 23)
    first, second = plan([str(tmp_path)], 10), plan([str(a), str(b)], 10)
    assert first == second and first.rows == 73
    assert [c.rows for c in first.chunks] == [10] * 5 + [10, 10, 3]
    ids = [i for c in first.chunks for i in read_chunk(c).column("id").to_pylist()]
    assert ids == [f"s{i}" for i in range(50)] + [f"j{i}" for i in range(23)]
    assert len({c.name for c in first.chunks}) == len(first.chunks)
    by_url = plan([f"file://{a}"], 10)
    assert by_url.fingerprint != first.fingerprint and read_chunk(by_url.chunks[1]).column("id")[0].as_py() == "s10"
    assert auto_chunk_size(300) == 16 and auto_chunk_size(10_000) == 157 and auto_chunk_size(10**7) == 1000


def test_missing_columns(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "content": ["x"]}), tmp_path / "in.parquet")
    with pytest.raises(InputError, match=r"in.parquet: missing column\(s\) code \(has: id, content\)"):
        plan([str(tmp_path / "in.parquet")])


def test_duplicate_ids_are_refused_and_named(tmp_path):
    write_parquet_input(tmp_path / "a.parquet", 5)
    write_parquet_input(tmp_path / "b.parquet", 5, start=3)
    with pytest.raises(InputError, match=r"2 id\(s\) appear more than once in the input: 's3', 's4'"):
        plan([str(tmp_path)])


def test_empty_input(tmp_path):
    write_parquet_input(tmp_path / "a.parquet", 0)
    with pytest.raises(InputError, match="no snippets in the input"):
        plan([str(tmp_path / "a.parquet")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder holds no .parquet or .jsonl files"):
        plan([str(tmp_path / "empty")])


def test_corrupt_and_truncated_parquet_are_named(tmp_path):
    src = write_parquet_input(tmp_path / "good.parquet", 20)
    data = src.read_bytes()
    (tmp_path / "truncated.parquet").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.parquet").write_bytes(b"not parquet at all" * 10)
    for name in ("truncated.parquet", "garbage.parquet"):
        with pytest.raises(InputError, match=rf"{name}: not a readable Parquet file"):
            plan([str(tmp_path / name)])


def test_non_string_code(tmp_path):
    pq.write_table(pa.table({"id": ["a", "b"], "code": [1, 2]}), tmp_path / "in.parquet")
    with pytest.raises(InputError, match="column 'code' has type int64, must be a string or binary type"):
        plan([str(tmp_path / "in.parquet")])
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "a", "code": "x=1"}) + "\n"
                                       + json.dumps({"id": "b", "code": ["x"]}) + "\n")
    with pytest.raises(InputError, match=r"in.jsonl:2: 'code' must be a string, got list"):
        plan([str(tmp_path / "in.jsonl")])


def test_bad_jsonl_lines_and_paths(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"id": "a", "code": "x=1"}\n{"id": "b", "code": \n')
    with pytest.raises(InputError, match=r"in.jsonl:2: not valid JSON"):
        plan([str(tmp_path / "in.jsonl")])
    with pytest.raises(InputError, match="nope.parquet: no such file or folder"):
        plan([str(tmp_path / "nope.parquet")])
    (tmp_path / "in.csv").write_text("id,code\n")
    with pytest.raises(InputError, match=r"in.csv: not a .parquet or .jsonl file"):
        plan([str(tmp_path / "in.csv")])


def test_column_clashing_with_result_fields(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "code": ["x=1"], "status": ["new"]}), tmp_path / "in.parquet")
    with pytest.raises(InputError, match="status clash with result fields"):
        plan([str(tmp_path / "in.parquet")])


def test_changed_input_is_detected_when_read(tmp_path):
    src = write_parquet_input(tmp_path / "in.parquet", 20)
    chunks = plan([str(src)], 8).chunks
    write_parquet_input(src, 10)
    with pytest.raises(InputError, match="expected 4 rows at 16, found 0; the file changed since the job started"):
        read_chunk(chunks[2])


def test_huge_and_null_code_are_results_not_runs(warm):
    results = run_snippets(warm, ["big", "none", "fine"], ["x = 1\n" * 100, None, "print('ok')"], max_code_bytes=100)
    assert [(r.id, r.status, r.error_type) for r in results] == [
        ("big", "error", "CodeTooLarge"), ("none", "error", "NoCode"), ("fine", "ok", None)]
    assert "600 bytes is over the 100-byte cap" in results[0].error_message


def test_self_test_passes_in_the_jail_and_refuses_leaks(warm, tmp_path):
    self_test(warm, ("127.0.0.1", 9), [str(tmp_path), "/root", "/etc/shadow"])
    with pytest.raises(IsolationRefused, match="snippet sees /usr"):
        self_test(warm, ("127.0.0.1", 9), ["/usr"])


def test_self_test_refuses_an_unjailed_sandbox():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with Sandbox("warm", isolation="process", timeout_s=5, render_plotly=False) as sb, \
                pytest.raises(IsolationRefused, match="reaches the scheduler"):
            self_test(sb, listener.getsockname(), [])


def test_jsonl_records_that_vary_get_one_schema_per_file(tmp_path):
    records = [{"id": 1, "code": "x = 1"}, {"id": "b", "code": "x = 2", "stars": 3},
               {"id": "c", "code": "x = 3", "stars": 2.5, "tags": ["a"]}, {"id": "d", "code": "x = 4", "tags": {"k": 1}}]
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    chunks = plan([str(tmp_path / "in.jsonl")], 2).chunks
    first, second = read_chunk(chunks[0]), read_chunk(chunks[1])
    assert first.schema == second.schema
    assert first.column_names == ["id", "code", "stars", "tags"]
    assert first.column("id").to_pylist() == ["1", "b"] and first.column("stars").to_pylist() == [None, 3.0]
    assert second.column("tags").to_pylist() == ['["a"]', '{"k": 1}']


def test_jsonl_clash_or_surrogate_in_a_later_record_is_refused(tmp_path):
    lines = [json.dumps({"id": "a", "code": "x = 1"}), json.dumps({"id": "b", "code": "x = 2", "status": "new"})]
    (tmp_path / "clash.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"clash.jsonl:2: column\(s\) status clash with result fields"):
        plan([str(tmp_path / "clash.jsonl")])
    (tmp_path / "bad.jsonl").write_text(lines[0] + '\n{"id": "b", "code": "print(\'\\ud800\')"}\n')
    with pytest.raises(InputError, match="bad.jsonl:2: holds a lone surrogate"):
        plan([str(tmp_path / "bad.jsonl")])


def test_jsonl_chunks_start_anywhere(tmp_path):
    write_jsonl_input(tmp_path / "in.jsonl", 53)
    text = (tmp_path / "in.jsonl").read_text().replace("\n", "\r\n\n", 5)  # CRLF and blank lines early on
    (tmp_path / "in.jsonl").write_text(text.rstrip("\n"))  # and no newline at the end
    for size in (1, 7, 16, 17, 53):
        chunks = plan([str(tmp_path / "in.jsonl")], size).chunks
        assert [i for c in chunks for i in read_chunk(c).column("id").to_pylist()] == [f"j{i}" for i in range(53)]


def _writers():
    """Input files as the everyday tools write them: each one's own string flavour."""
    import pandas as pd
    import polars as pl

    ids, codes = ["a", "b", "c"], ["print(1)", "print(2)", "print('ü')"]
    return {
        "polars": lambda p: pl.DataFrame({"id": ids, "code": codes, "tags": [["x"], ["y"], []]}).write_parquet(p),
        "pyarrow": lambda p: pq.write_table(pa.table({"id": ids, "code": codes}), p),
        "pyarrow-large-and-view": lambda p: pq.write_table(pa.table({
            "id": pa.array(ids, pa.large_string()), "code": pa.array(codes, pa.string_view())}), p),
        "pandas": lambda p: pd.DataFrame({"id": ids, "code": codes}).to_parquet(p),
        "pandas-category": lambda p: pd.DataFrame({"id": pd.Series(ids, dtype="category"),
                                                   "code": pd.Series(codes, dtype="string[pyarrow]")}).to_parquet(p),
        "dictionary": lambda p: pq.write_table(pa.table({"id": pa.array(ids).dictionary_encode(),
                                                         "code": pa.array(codes).dictionary_encode(),
                                                         "source": pa.array(["s"] * 3).dictionary_encode()}), p),
        "binary-code-integer-id": lambda p: pq.write_table(pa.table({
            "id": pa.array([1, 2, 3], pa.int16()),
            "code": pa.array([c.encode() for c in codes], pa.large_binary())}), p),
    }


@pytest.mark.parametrize("writer", list(_writers()))
def test_every_arrow_string_flavour_is_read_as_plain_string(tmp_path, writer):
    path = tmp_path / f"{writer}.parquet"
    _writers()[writer](path)
    table = read_chunk(plan([str(path)]).chunks[0])
    assert table.column("code").to_pylist() == ["print(1)", "print(2)", "print('ü')"]
    assert table.schema.field("id").type == pa.string() and table.schema.field("code").type == pa.string()
    for field in table.schema:  # one flavour per kind for every carried column too
        assert not (pa.types.is_large_string(field.type) or pa.types.is_dictionary(field.type)
                    or pa.types.is_large_list(field.type) or pa.types.is_string_view(field.type)), field
    if writer == "polars":
        assert table.schema.field("tags").type == pa.list_(pa.string())


def test_binary_code_must_be_utf8(tmp_path):
    pq.write_table(pa.table({"id": ["a", "b"], "code": pa.array([b"print(1)", b"print('\xe9')"], pa.binary())}),
                   tmp_path / "latin1.parquet")
    with pytest.raises(InputError, match=r"latin1.parquet: row 1: 'code' is not valid UTF-8 text"):
        plan([str(tmp_path / "latin1.parquet")])
