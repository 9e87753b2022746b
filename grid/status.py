"""`viscode grid status DIR`: what a grid output folder holds, finished or still running,
read only from the folder (manifest, progress log, committed shards, driver lock)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from viscode.errors import InputError
from viscode.shards import lock_holder

from .job import MANIFEST_KIND, load_log


@dataclass
class JobStatus:
    output: Path
    state: str  # complete, running, interrupted, failed
    rows: int
    chunks: int
    rows_done: int
    chunks_done: int
    counts: Counter = field(default_factory=Counter)
    quarantined: list[str] = field(default_factory=list)
    error: str | None = None
    rows_per_s: float | None = None
    driver: str | None = None


def job_status(output: str | Path) -> JobStatus:
    """Raises ValueError naming the folder when it is not a grid output."""
    output = Path(output)
    manifest_path = output / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise InputError(f"{output}: not a grid output folder (no manifest.json)") from None
    except ValueError as exc:
        raise InputError(f"{manifest_path}: unreadable manifest ({exc})") from None
    if manifest.get("kind") != MANIFEST_KIND:
        raise InputError(f"{output}: holds {manifest.get('kind', 'unknown')!r} output, not grid results")
    driver = lock_holder(output)
    status = JobStatus(output, manifest["state"], manifest["rows"], manifest["chunks"], manifest["rows_done"], 0,
                       Counter(manifest["status_counts"]), manifest.get("quarantined", []), manifest.get("error"),
                       manifest.get("rows_per_s"), driver)
    if status.state == "complete":
        status.chunks_done = len(manifest["shards"])
        return status
    # running or stopped part-way: count what is committed now
    logged = load_log(output)
    on_disk = {p.name for p in (output / "results").glob("*.parquet")}
    status.chunks_done = len(on_disk)
    status.counts = Counter()
    for name in on_disk & set(logged):
        status.counts.update(logged[name]["counts"])
    status.rows_done = sum(logged[n]["rows"] for n in on_disk & set(logged))
    status.quarantined = sorted(n for n in on_disk & set(logged) if logged[n].get("quarantined"))
    status.rows_per_s = None
    if status.state == "running" and driver is None:
        status.state = "interrupted"
    return status
