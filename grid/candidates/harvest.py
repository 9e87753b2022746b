"""Harvest: turn real code (files, folders, archives, notebooks, stack-style Parquet or
JSONL dumps) into candidate shards for the grid.

Everything is streamed: archives are read member by member and never extracted,
tables are read in batches, so memory stays bounded whatever the input size; the
only thing that grows is the set of ids used to drop exact duplicates. Input that
cannot become a candidate never stops the run: it is counted under a skip reason.
Harvested code is only parsed, never executed.
"""

from __future__ import annotations

import ast
import gzip
import json
import lzma
import os
import tarfile
import time
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from viscode.codetext import code_id, plotting_libraries
from viscode.errors import InputError
from viscode.progress import Progress
from viscode.shards import url_to_fs

from .writer import CandidateWriter

SKIP_REASONS = ("not_utf8", "binary", "syntax", "too_large", "empty", "bad_notebook", "no_plotting", "duplicate",
                "bad_archive", "bad_record")
PATH_COLUMNS = ("path", "max_stars_repo_path", "file_path", "filename")
LICENCE_COLUMNS = ("licence", "license", "licenses", "max_stars_repo_licenses", "detected_licenses")
NOTEBOOK_MAX_BYTES = 64 << 20  # notebooks carry their outputs (often images); max_bytes applies to their code
BATCH_ROWS = 1024
PROGRESS_SECONDS = 1.0
_SUFFIXES = {".py": "python", ".ipynb": "notebook", ".tar": "tar", ".tar.gz": "tar", ".tgz": "tar",
             ".tar.bz2": "tar", ".tar.xz": "tar", ".zip": "zip", ".parquet": "parquet", ".jsonl": "jsonl",
             ".jsonl.gz": "jsonl"}
# What a corrupt, truncated or unreadable archive or table raises (RuntimeError and NotImplementedError: encrypted
# or oddly compressed zip members).
_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError,
                   RuntimeError, NotImplementedError, pa.ArrowException)


@dataclass
class HarvestStats:
    """Running totals, updated while the run goes so a caller can show progress."""

    seen: int = 0  # files, archive members and table records considered (a failed archive counts once)
    kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        """Every skip reason (zeros included, so readers can rely on the keys), then kept and seen."""
        return {**{reason: self.skipped[reason] for reason in SKIP_REASONS}, "kept": self.kept, "seen": self.seen}


@dataclass(frozen=True, slots=True)
class _Item:
    """One piece of input on its way to becoming a candidate; `skip` is set when the reader already knows why not."""

    source: str
    data: bytes | str | None = None
    notebook: bool = False
    licence: str | None = None
    skip: str | None = None


class _Skip(Exception):
    """Raised by the checks below; carries the reason counted in the stats."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def iter_candidates(sources: list[str | Path], *, text_column: str = "content", max_bytes: int = 1 << 20,
                    stats: HarvestStats | None = None) -> Iterator[dict]:
    """Yield candidate rows (id, code, source, libraries, licence) and count skips in `stats`.

    Sources are checked when this is called, not on the first row, so a bad one is reported at once.
    """
    checked = _check_sources(sources, text_column)
    rows = _rows(checked, text_column, max_bytes, stats if stats is not None else HarvestStats())
    return (row for row in rows if row is not None)


def harvest(sources: list[str | Path], output: Path, *, text_column: str = "content", max_bytes: int = 1 << 20,
            force: bool = False, on_progress: Progress | None = None) -> dict:
    """Write candidate shards + manifest (CandidateWriter); returns the manifest.

    Manifest counts = skip reasons + kept + seen. Sources are checked before the output folder is touched.
    The same harvest again finds the folder finished and returns its manifest; `force` harvests anew.
    """
    checked = _check_sources(sources, text_column)
    config = {"sources": [str(s) for s in sources], "text_column": text_column, "max_bytes": max_bytes}
    writer = CandidateWriter(Path(output), command="viscode candidates harvest", config=config, force=force)
    if writer.finished:
        return writer.finished
    stats = HarvestStats()
    reported = 0.0
    for row in _rows(checked, text_column, max_bytes, stats):
        if row is not None:
            writer.add(row)
        if on_progress and stats.seconds - reported >= PROGRESS_SECONDS:
            on_progress("harvest", stats.seen, None)
            reported = stats.seconds
    if on_progress:
        on_progress("harvest", stats.seen, stats.seen)
    return writer.close(stats.counts())


# Sources -----------------------------------------------------------------------------------------------------------

def _kind(name: str) -> str | None:
    lower = name.lower()
    return next((kind for suffix, kind in _SUFFIXES.items() if lower.endswith(suffix)), None)


def _check_sources(sources: list[str | Path], text_column: str) -> list[tuple[str, str]]:
    """(name, kind) for every source, or one ValueError naming all bad ones, raised before any output exists.

    Tables inside folders are checked too, so a wrong text column never stops a run half-way.
    """
    checked, problems = [], []
    for source in sources:
        name = str(source)
        try:
            kind = _source_kind(name)
            for file, file_kind in _expand(name, kind):
                if file_kind in ("parquet", "jsonl"):
                    _check_table(file, file_kind, text_column)
        except InputError as e:
            problems.append(str(e))
            continue
        checked.append((name, kind))
    if problems:
        raise InputError("; ".join(problems))
    return checked


def _source_kind(name: str) -> str:
    if "://" in name:
        fs, path = url_to_fs(name)
        exists, is_dir = fs.exists(path), False  # remote sources are files; list a remote folder's files instead
    else:
        exists, is_dir = os.path.exists(name), os.path.isdir(name)
    if not exists:
        raise InputError(f"{name}: no such file or folder")
    if is_dir:
        return "folder"
    kind = _kind(name)
    if kind is None:
        raise InputError(f"{name}: unknown source type (expected a folder, {', '.join(_SUFFIXES)})")
    return kind


def _expand(name: str, kind: str) -> Iterator[tuple[str, str]]:
    """The files a source stands for: itself, or a folder's known files, walked in sorted order."""
    if kind != "folder":
        yield name, kind
        return
    for folder, subfolders, files in os.walk(name):
        subfolders.sort()
        for file in sorted(files):
            if file_kind := _kind(file):
                yield os.path.join(folder, file), file_kind


def _check_table(name: str, kind: str, text_column: str) -> None:
    """Raise if a table lacks the text column; one that cannot be read is left for the run to count."""
    try:
        with _open(name) as f:
            columns = pq.read_schema(f).names if kind == "parquet" else _first_record_keys(name, f)
    except _ARCHIVE_ERRORS:
        return
    if columns is not None:
        _table_columns(name, columns, text_column)


def _first_record_keys(name: str, f: IO[bytes]) -> list[str] | None:
    for line in _jsonl_lines(name, f):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict):
            return list(record)
    return None


def _table_columns(name: str, columns: list[str], text_column: str) -> tuple[str | None, str | None]:
    """The path and licence columns a table has (None where absent); raises if it lacks the text column."""
    if text_column not in columns:
        raise InputError(f"{name}: no text column {text_column!r}; its columns are {', '.join(columns)}")
    return _first_of(columns, PATH_COLUMNS), _first_of(columns, LICENCE_COLUMNS)


def _first_of(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    return next((c for c in wanted if c in columns), None)


def _first_value(record: dict, wanted: tuple[str, ...]) -> object:
    return next((record[c] for c in wanted if c in record), None)


def _open(name: str) -> AbstractContextManager[IO[bytes]]:
    return fsspec.open(name, "rb") if "://" in name else open(name, "rb")


# Readers: each turns one file into items, without judging their content ------------------------------------------

def _items(sources: list[tuple[str, str]], text_column: str, max_bytes: int) -> Iterator[_Item]:
    for name, kind in sources:
        for file, file_kind in _expand(name, kind):
            with _open(file) as f:
                match file_kind:
                    case "python" | "notebook":
                        yield _read_item(file, f, file_kind == "notebook", max_bytes)
                    case "tar":
                        yield from _tar_items(file, f, max_bytes)
                    case "zip":
                        yield from _zip_items(file, f, max_bytes)
                    case "parquet":
                        yield from _parquet_items(file, f, text_column)
                    case "jsonl":
                        yield from _jsonl_items(file, f, text_column)


def _read_item(source: str, f: IO[bytes], notebook: bool, max_bytes: int) -> _Item:
    """Read at most one byte past the limit, so a huge file costs no more than a small one."""
    limit = max(max_bytes, NOTEBOOK_MAX_BYTES) if notebook else max_bytes
    data = f.read(limit + 1)
    if len(data) > limit:
        return _Item(source, skip="too_large")
    return _Item(source, data, notebook)


def _member_kind(name: str) -> str | None:
    kind = _kind(name)
    return kind if kind in ("python", "notebook") else None


def _tar_items(name: str, f: IO[bytes], max_bytes: int) -> Iterator[_Item]:
    """Members in archive order, streamed (mode "r|*"): the archive is read once, front to back."""
    try:
        with tarfile.open(fileobj=f, mode="r|*") as tar:
            while (member := tar.next()) is not None:
                tar.members.clear()  # tarfile keeps every header it has read; memory must not grow with the archive
                kind = _member_kind(member.name)
                if kind and member.isfile():
                    yield _read_item(f"{name}!{member.name}", tar.extractfile(member), kind == "notebook", max_bytes)
    except _ARCHIVE_ERRORS:
        yield _Item(name, skip="bad_archive")


def _zip_items(name: str, f: IO[bytes], max_bytes: int) -> Iterator[_Item]:
    try:
        with zipfile.ZipFile(f) as archive:
            for info in archive.infolist():
                kind = _member_kind(info.filename)
                if kind and not info.is_dir():
                    with archive.open(info) as member:
                        yield _read_item(f"{name}!{info.filename}", member, kind == "notebook", max_bytes)
    except _ARCHIVE_ERRORS:
        yield _Item(name, skip="bad_archive")


def _parquet_items(name: str, f: IO[bytes], text_column: str) -> Iterator[_Item]:
    """Only the text, path and licence columns are read, a batch at a time."""
    try:
        table = pq.ParquetFile(f)
        path_column, licence_column = _table_columns(name, table.schema_arrow.names, text_column)
        columns = [c for c in (text_column, path_column, licence_column) if c]
        row = 0
        for batch in table.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            values = {c: batch.column(c).to_pylist() for c in columns}
            for i, text in enumerate(values[text_column]):
                path = values[path_column][i] if path_column else None
                licence = values[licence_column][i] if licence_column else None
                yield _table_item(name, row, text, path, licence)
                row += 1
    except _ARCHIVE_ERRORS:
        yield _Item(name, skip="bad_archive")


def _jsonl_items(name: str, f: IO[bytes], text_column: str) -> Iterator[_Item]:
    """One record per line; the first record must have the text column, later ones without it are bad records."""
    first = True
    try:
        for row, line in enumerate(_jsonl_lines(name, f)):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                record = None
            if not isinstance(record, dict):
                yield _Item(f"{name}#{row}", skip="bad_record")
                continue
            if first:
                _table_columns(name, list(record), text_column)
                first = False
            if text_column not in record:
                yield _Item(f"{name}#{row}", skip="bad_record")
                continue
            path, licence = _first_value(record, PATH_COLUMNS), _first_value(record, LICENCE_COLUMNS)
            yield _table_item(name, row, record[text_column], path, licence)
    except _ARCHIVE_ERRORS:
        yield _Item(name, skip="bad_archive")


def _jsonl_lines(name: str, f: IO[bytes]) -> IO[bytes]:
    return gzip.GzipFile(fileobj=f) if name.lower().endswith(".gz") else f


def _table_item(name: str, row: int, text: object, path: object, licence: object) -> _Item:
    source = f"{name}:{path}" if path is not None else f"{name}#{row}"
    if not isinstance(text, (str, bytes, type(None))):
        return _Item(source, skip="bad_record")
    return _Item(source, text, licence=_licence(licence))


def _licence(value: object) -> str | None:
    """Stack dumps hold licences as a string or a list of strings; a list is joined, an empty one is None."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or None
    return None if value is None else str(value)


# Judging items ----------------------------------------------------------------------------------------------------

def _rows(sources: list[tuple[str, str]], text_column: str, max_bytes: int,
          stats: HarvestStats) -> Iterator[dict | None]:
    """A row per kept item and None per skipped one, so a caller can report progress through long skip runs."""
    started = time.monotonic()
    seen_ids: set[str] = set()
    for item in _items(sources, text_column, max_bytes):
        stats.seen += 1
        try:
            row = _candidate(item, max_bytes, seen_ids)
            stats.kept += 1
        except _Skip as skip:
            stats.skipped[skip.reason] += 1
            row = None
        stats.seconds = time.monotonic() - started
        yield row


def _candidate(item: _Item, max_bytes: int, seen_ids: set[str]) -> dict:
    if item.skip:
        raise _Skip(item.skip)
    code = _code(item, max_bytes)
    with warnings.catch_warnings():  # invalid escapes are common in real code; parsing and ids would warn on each
        warnings.simplefilter("ignore")
        libraries = plotting_libraries(_parse(code))
        if not libraries:
            raise _Skip("no_plotting")
        cid = code_id(code)
    if cid in seen_ids:
        raise _Skip("duplicate")
    seen_ids.add(cid)
    return {"id": cid, "code": code, "source": item.source, "libraries": libraries, "licence": item.licence}


def _code(item: _Item, max_bytes: int) -> str:
    if item.data is None:
        raise _Skip("empty")
    if item.notebook:
        code = _notebook_code(_decode(item.data, max(max_bytes, NOTEBOOK_MAX_BYTES)))
        if len(code.encode("utf-8")) > max_bytes:
            raise _Skip("too_large")
    else:
        code = _decode(item.data, max_bytes)
    if not code.strip():
        raise _Skip("empty")
    return code


def _decode(data: bytes | str, limit: int) -> str:
    """Text that can be stored (valid UTF-8) and parsed (no NUL bytes); a leading BOM is dropped."""
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates from JSON escapes
            raise _Skip("not_utf8") from None
    else:
        raw = data
    if len(raw) > limit:
        raise _Skip("too_large")
    if b"\0" in raw:
        raise _Skip("binary")
    try:
        text = data if isinstance(data, str) else raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Skip("not_utf8") from None
    return text.removeprefix("\ufeff")


def _parse(code: str) -> ast.Module:
    """Parse without executing; Python 2 and broken files are syntax skips."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _Skip("syntax") from None


def _notebook_code(text: str) -> str:
    """Code cells joined with blank lines; IPython magics and shell lines are not Python, so they go.

    Reads nbformat 4 ("cells", "source") and 3 ("worksheets", "input"); any other shape is a bad notebook.
    """
    try:
        notebook = json.loads(text)
        cells = notebook["cells"] if "cells" in notebook else [c for w in notebook["worksheets"] for c in w["cells"]]
        sources = [cell.get("source", cell.get("input", "")) for cell in cells if cell.get("cell_type") == "code"]
        sources = ["".join(s) if isinstance(s, list) else s for s in sources]
    except (ValueError, RecursionError, TypeError, KeyError, AttributeError):
        raise _Skip("bad_notebook") from None
    if not all(isinstance(s, str) for s in sources):
        raise _Skip("bad_notebook")
    codes = (_cell_code(source) for source in sources)
    return "\n\n".join(code for code in codes if code.strip())


def _cell_code(source: str) -> str:
    if source.lstrip().startswith("%%"):  # a cell magic makes the whole cell non-Python
        return ""
    lines = [line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines).strip("\n")
