"""Grid outputs built directly (no sandbox run) so curation's decisions can be tested
on planted cases: every chart here is drawn by the test itself with matplotlib."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pyarrow as pa
from viscode.grid.job import MANIFEST_KIND
from viscode.grid.results import RESULT_SCHEMA
from viscode.sandbox.result import SCHEMA_VERSION

from viscode.shards import write_json, write_parquet


def chart(kind: str = "bar", seed: int = 0, color: str = "C0", title: str = "chart") -> bytes:
    """A small real chart; different seeds give clearly different data."""
    values = [((seed * 7 + i * 13) % 11) + 1 for i in range(8)]
    fig, ax = plt.subplots(figsize=(4, 3), dpi=60)
    if kind == "bar":
        ax.bar(range(8), values, color=color)
    elif kind == "line":
        ax.plot(range(8), values, color=color)
    else:
        ax.scatter(range(8), values, color=color)
    ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def blank() -> bytes:
    fig = plt.figure(figsize=(4, 3), dpi=60)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def program(seed: int, kind: str = "bar", title: str = "chart") -> str:
    """Code matching chart(kind, seed): what a snippet that drew it would look like."""
    values = [((seed * 7 + i * 13) % 11) + 1 for i in range(8)]
    call = {"bar": "bar", "line": "plot"}.get(kind, "scatter")
    return (f"import matplotlib.pyplot as plt\n\nvalues = {values}\nfig, ax = plt.subplots(figsize=(4, 3))\n"
            f"ax.{call}(range(8), values)\nax.set_title({title!r})\nplt.show()\n")


def row(snippet_id: str, code: str, png: bytes | None = None, *, status: str = "ok", artists: int | None = 3,
        source: str | None = None, licence: str | None = None) -> dict:
    images = [] if png is None else [{"png": png, "width": 240, "height": 180, "source": "matplotlib",
                                      "name": "figure-1", "artists": artists, "spec": None, "render_error": None}]
    return {"id": snippet_id, "code": code, "source": source or f"test:{snippet_id}", "licence": licence,
            "status": status, "error_type": None if status == "ok" else "ValueError",
            "error_message": None if status == "ok" else "boom", "traceback": "", "stdout": "", "stderr": "",
            "stdout_truncated": False, "stderr_truncated": False, "duration_s": 0.1, "cpu_s": 0.1,
            "peak_memory_mb": 50.0, "images": images, "isolation": "nsjail", "exit_code": 0, "signal": None,
            "schema_version": SCHEMA_VERSION}


SCHEMA = pa.schema([("id", pa.string()), ("code", pa.string()), ("source", pa.string()),
                    ("licence", pa.string()), *RESULT_SCHEMA])


def grid_output(folder: Path, shards: list[list[dict]], *, schema_version: int = SCHEMA_VERSION,
                job: str | None = None) -> Path:
    """A finished grid output folder holding these shards, with a manifest like the grid's."""
    entries = []
    for n, rows in enumerate(shards):
        name = f"input-{n:06d}.parquet"
        info = write_parquet(pa.Table.from_pylist(rows, schema=SCHEMA), folder / "results" / name)
        entries.append({"name": name, "rows": info.rows, "bytes": info.bytes, "sha256": info.sha256, "counts": {}})
    fingerprint = job or hashlib.sha256(str(folder).encode()).hexdigest()
    write_json({"kind": MANIFEST_KIND, "schema_version": schema_version, "state": "complete",
                "job": {"fingerprint": fingerprint}, "rows": sum(e["rows"] for e in entries),
                "shards": entries}, folder / "manifest.json")
    return folder
