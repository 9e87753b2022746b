"""Result rows: a chunk's input columns (less the data files, which are inputs to a run,
not part of its result) followed by the ExecutionResult fields, with one fixed Arrow
schema for the result part so every shard of every job reads alike."""

from __future__ import annotations

import pyarrow as pa
from viscode.sandbox.result import ExecutionResult

from .inputs import FILES

IMAGE_TYPE = pa.struct([
    ("png", pa.binary()), ("width", pa.int32()), ("height", pa.int32()), ("source", pa.string()),
    ("name", pa.string()), ("artists", pa.int32()), ("spec", pa.large_string()), ("render_error", pa.string()),
])
RESULT_SCHEMA = pa.schema([
    ("status", pa.string()), ("error_type", pa.string()), ("error_message", pa.string()),
    ("traceback", pa.string()), ("stdout", pa.string()), ("stderr", pa.string()),
    ("stdout_truncated", pa.bool_()), ("stderr_truncated", pa.bool_()), ("duration_s", pa.float64()),
    ("cpu_s", pa.float64()), ("peak_memory_mb", pa.float64()), ("images", pa.list_(IMAGE_TYPE)),
    ("isolation", pa.string()), ("exit_code", pa.int32()), ("signal", pa.int32()), ("schema_version", pa.int16()),
])


def _row(result: ExecutionResult) -> dict:
    return {
        **{name: getattr(result, name) for name in RESULT_SCHEMA.names if name != "images"},
        "images": [{"png": i.png, "width": i.width, "height": i.height, "source": i.source, "name": i.name,
                    "artists": i.artists, "spec": i.spec, "render_error": i.render_error} for i in result.images],
    }


def results_table(inputs: pa.Table, results: list[ExecutionResult]) -> pa.Table:
    """Input columns but `files`, then result columns; row i of the output is input row i."""
    if [r.id for r in results] != inputs.column("id").to_pylist():
        raise RuntimeError("results are not in input order")
    if FILES in inputs.column_names:
        inputs = inputs.drop_columns([FILES])
    outcome = pa.Table.from_pylist([_row(r) for r in results], schema=RESULT_SCHEMA)
    for name in RESULT_SCHEMA.names:
        inputs = inputs.append_column(RESULT_SCHEMA.field(name), outcome.column(name))
    return inputs


def failed(snippet_id: str, error_type: str, message: str, status: str = "error") -> ExecutionResult:
    """A result the grid decides without running the snippet (too large, no code, bad files, quarantined)."""
    return ExecutionResult(id=snippet_id, status=status, error_type=error_type, error_message=message)
