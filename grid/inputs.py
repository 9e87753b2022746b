"""Grid input: find the input files, check them before any work starts, and cut them
into chunks that workers read on their own.

Everything a bad input can do wrong is found here, by the driver, in one pass, with
a one-line error naming the file: a job either starts on clean input or not at all.
The plan depends only on the input bytes and the chunk size, so rerunning the same
command finds the same chunks (and the same shard names) and can resume.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from viscode.sandbox.result import ExecutionResult

from viscode.errors import InputError, first_line
from viscode.jsonlines import json_object
from viscode.shards import url_to_fs

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
RESULT_COLUMNS = frozenset(ExecutionResult.__dataclass_fields__) - {"id"}
FILES = "files"  # optional: data files placed in each snippet's working directory
MAX_CHUNK, MIN_CHUNK = 1000, 16
OFFSET_STRIDE = 16  # JSONL: one byte offset kept per this many records


@dataclass(frozen=True, slots=True)
class InputFile:
    url: str
    format: str
    rows: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows [start, stop) of one input file; `name` is the result shard it becomes.
    JSONL chunks start reading at byte `offset` and skip `skip` records from there, and
    carry the file's column types so every chunk of a file gets one schema."""

    name: str
    url: str
    format: str
    start: int
    stop: int
    offset: int = 0
    skip: int = 0
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def rows(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True, slots=True)
class Plan:
    files: list[InputFile]
    chunks: list[Chunk]
    chunk_size: int

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self.files)


def _fingerprint(files: list[InputFile]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.sha256} {f.rows}\n".encode())
    return digest.hexdigest()


def auto_chunk_size(rows: int) -> int:
    """About 64 chunks for small jobs (so every worker gets work), at most 1000 rows
    (a chunk of warm snippets then runs for a minute or less) for big ones."""
    return max(MIN_CHUNK, min(MAX_CHUNK, -(-rows // 64)))


def expand(inputs: list[str]) -> list[str]:
    """Input paths or URLs; folders become the Parquet/JSONL files inside, sorted."""
    files: list[str] = []
    for spec in inputs:
        fs, path = url_to_fs(spec)
        if fs.isdir(path):
            found = sorted(p for p in fs.find(path) if _format_of(p) and not PurePosixPath(p).name.startswith("."))
            if not found:
                raise InputError(f"{spec}: folder holds no .parquet or .jsonl files")
            files.extend(fs.unstrip_protocol(p) if "://" in spec else str(Path(p).absolute()) for p in found)
        elif fs.exists(path):
            if not _format_of(path):
                raise InputError(f"{spec}: not a .parquet or .jsonl file")
            files.append(spec if "://" in spec else str(Path(spec).absolute()))
        else:
            raise InputError(f"{spec}: no such file or folder")
    if len(set(files)) != len(files):
        raise InputError("the same input file is given twice")
    return files


def _format_of(path: str) -> str | None:
    return FORMATS.get(PurePosixPath(path).suffix.lower())


def plan(inputs: list[str], chunk_size: int | None = None, job_key: str = "") -> Plan:
    """Check every input file and cut the job into chunks (see the module docstring).
    Shard names carry a tag of the input, chunk size and `job_key` (the limits), so a
    late attempt of a replaced job can never land under a name of the current one."""
    files, id_columns, layouts = [], [], {}
    for url in expand(inputs):
        try:
            if _format_of(url) == "parquet":
                info, ids = _check_parquet(url)
            else:
                info, ids, layouts[url] = _check_jsonl(url)
        except OSError as exc:
            raise InputError(f"{url}: cannot read ({first_line(exc)})") from None
        files.append(info)
        id_columns.append(ids)
    total = sum(f.rows for f in files)
    if total == 0:
        raise InputError(f"{', '.join(inputs)}: no snippets in the input")
    _check_unique_ids(files, id_columns)
    size = chunk_size or auto_chunk_size(total)
    if size < 1:
        raise InputError(f"--chunk-size must be at least 1, got {size}")
    tag = hashlib.sha256(f"{_fingerprint(files)}|{size}|{job_key}".encode()).hexdigest()[:8]
    chunks = []
    for f in files:
        stem = PurePosixPath(f.url).name.split(".")[0][:40]
        offsets, columns = layouts.get(f.url, (None, ()))
        for n, start in enumerate(range(0, f.rows, size)):
            offset, skip = (offsets[start // OFFSET_STRIDE], start % OFFSET_STRIDE) if offsets is not None else (0, 0)
            chunks.append(Chunk(f"{stem}-{f.sha256[:8]}-{tag}-{n:06d}.parquet", f.url, f.format, start,
                                min(start + size, f.rows), offset, skip, columns))
    return Plan(files, chunks, size)


def _sha256(url: str) -> str:
    digest = hashlib.sha256()
    with fsspec.open(url, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _check_columns(url: str, names: list[str]) -> None:
    missing = [c for c in ("id", "code") if c not in names]
    if missing:
        raise InputError(f"{url}: missing column(s) {', '.join(missing)} (has: {', '.join(names) or 'none'})")
    clash = sorted(RESULT_COLUMNS & set(names))
    if clash:
        raise InputError(f"{url}: column(s) {', '.join(clash)} clash with result fields; rename them")


def _check_parquet(url: str) -> tuple[InputFile, pl.Series]:
    try:
        with fsspec.open(url, "rb") as f:
            pf = pq.ParquetFile(f)
            schema = pf.schema_arrow
            _check_columns(url, schema.names)
            for column, allowed, wanted in (("code", _is_text, "a string or binary type"),
                                            ("id", _is_id, "a string, binary or integer type"),
                                            (FILES, _is_files, "list<struct<name: string, data: binary>>")):
                if column in schema.names and not allowed(plain_type(schema.field(column).type)):
                    raise InputError(f"{url}: column {column!r} has type {schema.field(column).type}, must be {wanted}")
            if not pa.types.is_string(plain_type(schema.field("code").type)):
                _check_utf8(url, pf)
            ids = pl.from_arrow(plain_table(pf.read(columns=["id"])).column("id")).cast(pl.String)
            rows = pf.metadata.num_rows
    except InputError:
        raise
    except PermissionError as exc:
        raise InputError(f"{url}: cannot read ({first_line(exc)})") from None
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{url}: not a readable Parquet file ({first_line(exc)})") from None
    return InputFile(url, "parquet", rows, _sha256(url)), ids


def plain_type(t: pa.DataType) -> pa.DataType:
    """The one type every later stage sees for an Arrow type: dictionary columns decoded,
    large and view strings, binaries and lists as their plain kinds (polars writes
    large_string and large_list, pandas categoricals and DuckDB dictionary columns)."""
    if pa.types.is_dictionary(t):
        return plain_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t) or \
            pa.types.is_large_list_view(t):
        return pa.list_(t.value_field.with_type(plain_type(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(plain_type(t.field(i).type)) for i in range(t.num_fields)])
    return t


def plain_table(table: pa.Table) -> pa.Table:
    """`table` with every column of its plain type (see plain_type); `code` as UTF-8 text."""
    columns = []
    for field, column in zip(table.schema, table.columns):
        kind = plain_type(field.type)
        if field.name == "code" and pa.types.is_binary(kind):
            kind = pa.string()
        if pa.types.is_dictionary(field.type):
            column = column.cast(field.type.value_type)  # decoded first: nested casts need the dense values
        columns.append(column.cast(kind) if column.type != kind else column)
    # the writer's metadata (pandas' dtypes, say) no longer describes these columns
    return pa.table(columns, schema=pa.schema([f.with_type(c.type) for f, c in zip(table.schema, columns)]))


def _check_utf8(url: str, pf: pq.ParquetFile) -> None:
    """A binary `code` column must hold UTF-8 text: checked before any work starts."""
    seen = 0
    for batch in pf.iter_batches(columns=["code"], batch_size=10_000):
        try:
            plain_table(pa.Table.from_batches([batch]))
        except pa.ArrowInvalid:
            bad = next(i for i, v in enumerate(batch.column(0).to_pylist()) if v is not None and not _decodes(v))
            raise InputError(f"{url}: row {seen + bad}: 'code' is not valid UTF-8 text") from None
        seen += batch.num_rows


def _decodes(value: bytes) -> bool:
    try:
        value.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_binary(t)


def _is_id(t: pa.DataType) -> bool:
    return _is_text(t) or pa.types.is_integer(t)


def _is_files(t: pa.DataType) -> bool:
    """Checked by field names, so any field order or nullability a writer chose passes."""
    return pa.types.is_list(t) and pa.types.is_struct(t.value_type) and \
        {f.name: f.type for f in t.value_type} == {"name": pa.string(), "data": pa.binary()}


def _check_jsonl(url: str) -> tuple[InputFile, pl.Series, tuple[array, tuple[tuple[str, str], ...]]]:
    """One streaming pass: hash the file, validate each record, note every key's value
    types, and remember where every OFFSET_STRIDE-th record starts."""
    offsets, id_batches, ids, kinds = array("q"), [], [], {}
    position = rows = 0
    digest = hashlib.sha256()  # the file is hashed in the same pass
    with fsspec.open(url, "rb") as f:
        for line_no, line in enumerate(f, 1):
            digest.update(line)
            start, position = position, position + len(line)
            if not line.strip():
                continue
            record = _record(url, line_no, line)
            for key, value in record.items():
                if value is not None:
                    kinds.setdefault(key, set()).add(type(value).__name__)
                elif key not in kinds:
                    kinds[key] = set()
            if rows % OFFSET_STRIDE == 0:
                offsets.append(start)
            rows += 1
            ids.append(str(record["id"]))
            if len(ids) >= 100_000:
                id_batches.append(pl.Series("id", ids, dtype=pl.String))
                ids = []
    id_batches.append(pl.Series("id", ids, dtype=pl.String))
    columns = tuple((key, _jsonl_type(key, types)) for key, types in kinds.items())
    return InputFile(url, "jsonl", rows, digest.hexdigest()), pl.concat(id_batches), (offsets, columns)


def _record(url: str, line_no: int, line: bytes) -> dict:
    where = f"{url}:{line_no}"
    record = json_object(line, where)
    _check_columns(where, sorted(record))
    if FILES in record:  # it would otherwise be carried as JSON text and never reach the sandbox
        raise InputError(f"{where}: data files ({FILES!r}) need Parquet input; JSON cannot hold bytes "
                         "without an encoding")
    if not isinstance(record["code"], str):
        raise InputError(f"{where}: 'code' must be a string, got {type(record['code']).__name__}")
    if not isinstance(record["id"], (str, int)) or isinstance(record["id"], bool):
        raise InputError(f"{where}: 'id' must be a string or integer")
    if b"\\ud" in line.lower():  # only a \uXXXX escape can make a lone surrogate
        try:
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{where}: holds a lone surrogate (\\ud800-\\udfff), which is not valid text") from None
    return record


def _jsonl_type(key: str, types: set[str]) -> str:
    """One Arrow type per JSONL key for the whole file; mixed or nested values become JSON text."""
    if key in ("id", "code") or types <= {"str"}:
        return "string"
    if types <= {"int"}:
        return "int64"
    if types <= {"int", "float"}:
        return "float64"
    if types == {"bool"}:
        return "bool"
    return "json"


def _check_unique_ids(files: list[InputFile], id_columns: list[pl.Series]) -> None:
    ids = pl.concat(id_columns) if id_columns else pl.Series("id", [], dtype=pl.String)
    if ids.null_count():
        owner = next(f.url for f, col in zip(files, id_columns) if col.null_count())
        raise InputError(f"{owner}: {ids.null_count()} row(s) have no id")
    dup = ids.filter(ids.is_duplicated()).unique(maintain_order=True)
    if len(dup):
        shown = ", ".join(repr(i) for i in dup.head(5).to_list())
        more = f" and {len(dup) - 5} more" if len(dup) > 5 else ""
        raise InputError(f"{len(dup)} id(s) appear more than once in the input: {shown}{more}; "
                         "ids must be unique (harvest gives every distinct program one id)")


def read_chunk(chunk: Chunk) -> pa.Table:
    """The chunk's input rows; `id` as string. Raises InputError naming the file."""
    try:
        if chunk.format == "parquet":
            table = _read_parquet_rows(chunk)
        else:
            table = _read_jsonl_rows(chunk)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{chunk.url}: cannot read rows {chunk.start}-{chunk.stop} ({first_line(exc)})") from None
    if table.num_rows != chunk.rows:
        raise InputError(f"{chunk.url}: expected {chunk.rows} rows at {chunk.start}, found {table.num_rows}; "
                         "the file changed since the job started")
    table = plain_table(table)
    return table.set_column(table.schema.get_field_index("id"), "id", table.column("id").cast(pa.string()))


def _read_jsonl_rows(chunk: Chunk) -> pa.Table:
    records, skip = [], chunk.skip
    with fsspec.open(chunk.url, "rb") as f:
        f.seek(chunk.offset)
        while len(records) < chunk.rows and (line := f.readline()):
            if not line.strip():
                continue
            if skip:
                skip -= 1
                continue
            records.append(json.loads(line))
    arrays = {}
    for key, kind in chunk.columns:
        values = [r.get(key) for r in records]
        if key == "id":
            values = [str(v) for v in values]
        elif kind == "json":
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        arrays[key] = pa.array(values, pa.string() if kind == "json" else pa.type_for_alias(kind))
    return pa.table(arrays)


def _read_parquet_rows(chunk: Chunk) -> pa.Table:
    """Only the row groups that hold the chunk are read."""
    with fsspec.open(chunk.url, "rb") as f:
        pf = pq.ParquetFile(f)
        groups, first, seen = [], None, 0
        for g in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(g).num_rows
            if seen + n > chunk.start and seen < chunk.stop:
                groups.append(g)
                first = seen if first is None else first
            seen += n
        if not groups:
            return pf.schema_arrow.empty_table()
        table = pf.read_row_groups(groups)
    return table.slice(chunk.start - first, chunk.rows)
