"""Inputs the grid tests write: small, fast, benign snippets with known outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from viscode.grid.job import load_log


def snippet(i: int) -> str:
    """Every 5th snippet fails with an error, every 7th prints only; the rest plot."""
    if i % 5 == 4:
        return f"values = [1, 2, 3]\nprint(values[{10 + i}])\n"
    if i % 7 == 6:
        return f"print('row {i}')\n"
    return f"import matplotlib.pyplot as plt\nplt.plot([0, 1, {i}])\nplt.title('row {i}')\n"


def write_parquet_input(path: Path, n: int, *, prefix: str = "s", start: int = 0, row_group_size: int = 7,
                        slow: range = range(0)) -> Path:
    """`slow` rows sleep 0.4 s first, so a fault injected into their chunk lands mid-chunk."""
    ids = [f"{prefix}{i}" for i in range(start, start + n)]
    codes = [("import time\ntime.sleep(0.4)\n" if i in slow else "") + snippet(i) for i in range(start, start + n)]
    table = pa.table({"id": pa.array(ids, pa.string()), "code": pa.array(codes, pa.string()),
                      "source": pa.array([f"test:{i}" for i in ids], pa.string()),
                      "licence": pa.array(["mit"] * n, pa.string()),
                      "libraries": pa.array([["matplotlib"]] * n, pa.list_(pa.string()))})
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def write_jsonl_input(path: Path, n: int, *, prefix: str = "j") -> Path:
    with open(path, "w") as f:
        f.writelines(json.dumps({"id": f"{prefix}{i}", "code": snippet(i), "repo": f"r{i % 3}"}) + "\n" for i in range(n))
    return path


def result_ids(output: Path) -> list[str]:
    ids = []
    for shard in sorted((output / "results").glob("*.parquet")):
        ids.extend(pq.read_table(shard, columns=["id"]).column("id").to_pylist())
    return ids


def committed(output: Path) -> dict[str, tuple[int, int]]:
    """Shard name -> (inode, mtime_ns): a rewritten shard changes both."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (output / "results").glob("*.parquet")}


def logged_names(output: Path) -> set[str]:
    return set(load_log(output))


FILES_TYPE = pa.list_(pa.struct([("name", pa.string()), ("data", pa.binary())]))  # the `files` input column


def result_rows(output: Path) -> dict[str, dict]:
    """Every result row of a job by id (the images' PNGs included: keep test jobs small)."""
    return {row["id"]: row for shard in sorted((output / "results").glob("*.parquet"))
            for row in pq.read_table(shard).to_pylist()}
