"""PandasPlotBench tasks from the published Parquet file (175 rows), a JSONL file in the same
columns, or the 99 tasks the project ships.

Only the columns a run needs are required; the ground-truth columns (`code_data`, `plots_gt`)
are often missing and then simply unused (no visual score without a ground-truth image).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from viscode.errors import InputError, first_line
from viscode.jsonlines import json_object

SHIPPED = Path(__file__).parent / "data" / "pandasplotbench.jsonl.gz"
REQUIRED = ("id", "data_csv", "task__plot_description", "task__plot_style")
OPTIONAL = ("code_data", "plots_gt")


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    data_csv: str
    plot_description: str
    plot_style: str
    code_data: str | None = None  # the benchmark's data-loading code, run before the model's code
    plot_gt: bytes | None = None  # the first ground-truth image, decoded


@dataclass(frozen=True, slots=True)
class TaskSet:
    tasks: list[Task]
    source: str
    digest: str  # sha256 of the file's bytes: a run's identity


def load_tasks(path: str | Path | None = None, limit: int | None = None) -> TaskSet:
    """The tasks of `path` (.parquet, .jsonl, .jsonl.gz; default the shipped 99) in id order,
    the first `limit` of them when given."""
    file = Path(path) if path is not None else SHIPPED
    if not file.is_file():
        raise InputError(f"{file}: no such tasks file")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: cannot read ({first_line(exc)})") from None
    name = file.name.lower()
    if name.endswith((".parquet", ".pq")):
        records = _parquet_records(file, data)
    elif name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        records = _jsonl_records(file, data)
    else:
        raise InputError(f"{file}: tasks must be a .parquet or .jsonl(.gz) file")
    tasks = [_task(file, n, r) for n, r in enumerate(records, 1)]
    if not tasks:
        raise InputError(f"{file}: holds no tasks")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InputError(f"{file}: task id(s) appear more than once: {', '.join(dup)}")
    tasks.sort(key=_order)
    if limit is not None:
        if limit < 1:
            raise InputError(f"--limit must be at least 1, got {limit}")
        tasks = tasks[:limit]
    return TaskSet(tasks, str(file), hashlib.sha256(data).hexdigest())


def _order(task: Task) -> tuple:
    return (0, int(task.id), "") if task.id.isdigit() else (1, 0, task.id)


def _parquet_records(file: Path, data: bytes) -> list[dict]:
    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
        names = pf.schema_arrow.names
        _check_columns(file, names)
        return pf.read(columns=[c for c in (*REQUIRED, *OPTIONAL) if c in names]).to_pylist()
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{file}: not a readable Parquet file ({first_line(exc)})") from None


def _jsonl_records(file: Path, data: bytes) -> list[dict]:
    if file.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{file}: not a readable gzip file ({first_line(exc)})") from None
    records = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        record = json_object(line, f"{file}:{n}")
        if not records:
            _check_columns(file, list(record))
        records.append(record)
    return records


def _check_columns(file: Path, names: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(f"{file}: missing column(s) {', '.join(missing)} (has: {', '.join(names) or 'none'})")


def _task(file: Path, n: int, r: dict) -> Task:
    where = f"{file}: task {r.get('id', f'in row {n}')!s}"
    for column in REQUIRED:
        if r.get(column) is None:
            raise InputError(f"{where}: {column} is missing or null")
    if isinstance(r["id"], bool) or not isinstance(r["id"], (int, str)):
        raise InputError(f"{where}: id must be an integer or a string")
    for column in REQUIRED[1:]:
        if not isinstance(r[column], str):
            raise InputError(f"{where}: {column} must be text, not {type(r[column]).__name__}")
    code_data = r.get("code_data")
    if code_data is not None and not isinstance(code_data, str):
        raise InputError(f"{where}: code_data must be text")
    return Task(str(r["id"]), r["data_csv"], r["task__plot_description"], r["task__plot_style"],
                code_data or None, _first_image(where, r.get("plots_gt")))


def _first_image(where: str, plots) -> bytes | None:
    """plots_gt holds base64 strings; only the first is used, as the benchmark does."""
    if plots is None or len(plots) == 0:
        return None
    first = plots[0]
    if isinstance(first, bytes):
        return first
    try:
        return base64.b64decode(first, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise InputError(f"{where}: plots_gt[0] is not base64 image data") from None
