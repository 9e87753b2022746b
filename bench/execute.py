"""Every attempt in a fresh sandbox on the grid, `data.csv` in its working directory and the
task's data code run first, so hundreds of attempts run in parallel on a LocalCluster or a
cluster and every run resumes chunk by chunk.

Pass is the benchmark's (VisCoder's) rule: no exception and at least one image. What the model
is shown for a failure is the real traceback, trimmed as the repair dialogues it was trained on
were; for a run with no image the benchmark's literal text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client
from viscode.grid.executor import SandboxSettings
from viscode.grid.job import GridState, run_grid

from viscode.selfdebug import trim_traceback
from viscode.shards import write_parquet

DATA_CODE = 'import pandas as pd\ndf = pd.read_csv("data.csv")'  # what the benchmark's data code does
NO_IMAGE = "Unexpected Error"  # the benchmark's text for a run that drew nothing
# Small chunks: a round is a few hundred attempts, and a worker left idle while another finishes
# a long chunk at the end of a round is time lost; 8 attempts a chunk keeps the grid's per-chunk
# cost (a task, a shard) small beside the attempts themselves.
CHUNK_SIZE = 8
FILES_TYPE = pa.list_(pa.struct([("name", pa.string()), ("data", pa.binary())]))


@dataclass(frozen=True, slots=True)
class Job:
    key: str
    code: str  # the model's code, extracted
    data_code: str | None
    data_csv: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    error_type: str | None
    error: str  # "" when passed
    images: list[bytes]
    duration_s: float

    @property
    def passed(self) -> bool:
        return self.status == "ok" and bool(self.images)


def program(data_code: str | None, code: str) -> str:
    return f"{data_code or DATA_CODE}\n{code}\n"


def execute(jobs: list[Job], workdir: Path, *, settings: SandboxSettings, client: Client,
            on_update: Callable[[GridState], None] | None = None) -> dict[str, Outcome]:
    """One outcome per job key; `workdir` holds the grid job, so a rerun resumes it."""
    source = workdir / "input.parquet"
    if not source.exists():  # written once per round: a rerun must plan the very same chunks
        table = pa.table({
            "id": pa.array([j.key for j in jobs], pa.string()),
            "code": pa.array([program(j.data_code, j.code) for j in jobs], pa.string()),
            "files": pa.array([[{"name": "data.csv", "data": j.data_csv}] for j in jobs], FILES_TYPE),
        })
        write_parquet(table, source)
    # the run's own folder: a grid job of other input there (a moved folder) is simply replaced
    run_grid([str(source)], workdir / "grid", settings=settings, chunk_size=CHUNK_SIZE, client=client, force=True,
             on_update=on_update)
    outcomes = {}
    for shard in sorted((workdir / "grid" / "results").glob("*.parquet")):
        columns = ["id", "status", "error_type", "error_message", "traceback", "duration_s", "images"]
        for row in pq.read_table(shard, columns=columns).to_pylist():
            images = [i["png"] for i in row["images"] or [] if i["png"]]
            outcomes[row["id"]] = Outcome(row["status"], row["error_type"], _shown_error(row, images), images,
                                          row["duration_s"] or 0.0)
    return outcomes


def _shown_error(row: dict, images: list[bytes]) -> str:
    if row["status"] == "ok":
        return "" if images else NO_IMAGE
    text = row["traceback"] or f"{row['error_type']}: {row['error_message']}"
    return trim_traceback(text.rstrip("\n"))
