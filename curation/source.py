"""The grid outputs a curation run reads: each folder's manifest and result shards,
checked before any row is used, so a bad input is named up front instead of quietly
shrinking the dataset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from viscode.grid.job import MANIFEST_KIND, job_digest
from viscode.grid.results import IMAGE_TYPE
from viscode.sandbox.result import SCHEMA_VERSION

from viscode.errors import InputError
from viscode.shards import shard_problem

REQUIRED = {"id": pa.string(), "code": pa.string(), "status": pa.string(), "images": pa.list_(IMAGE_TYPE)}
OPTIONAL = ("source", "licence")


@dataclass(frozen=True, slots=True)
class ResultShard:
    """One result shard to curate; `grid_job` is a digest of the identity of the job that wrote it."""
    path: Path
    grid_job: str
    rows: int
    columns: tuple[str, ...]   # the OPTIONAL columns it has

    @property
    def key(self) -> str:
        """Names the shard uniquely across grid outputs (two jobs may reuse a shard name)."""
        return f"{self.grid_job[:12]}/{self.path.name}"


@dataclass(frozen=True, slots=True)
class BadShard:
    path: Path
    rows: int
    problem: str


def _manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise InputError(f"{folder}: not a grid output folder")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{folder}: no manifest.json; is this a `viscode grid run` output?") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        raise InputError(f"{path}: not a grid results manifest (kind {manifest.get('kind')!r})")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise InputError(f"{path}: result schema version {manifest.get('schema_version')!r}; "
                         f"this viscode reads version {SCHEMA_VERSION}")
    if manifest.get("state") != "complete":
        raise InputError(f"{path}: the grid job is {manifest.get('state')!r}, not complete; "
                         "rerun `viscode grid run` to finish it first")
    return manifest


def _check_shard(path: Path, entry: dict) -> tuple[str | None, tuple[str, ...]]:
    """(problem or None, optional columns present)."""
    if problem := shard_problem(path, entry):
        return problem, ()
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        return f"unreadable Parquet ({exc})", ()
    for name, kind in REQUIRED.items():
        if name not in schema.names:
            return f"no {name!r} column", ()
        if schema.field(name).type != kind:
            return f"column {name!r} is {schema.field(name).type}, expected {kind}", ()
    for name in OPTIONAL:
        if name in schema.names and schema.field(name).type not in (pa.string(), pa.large_string()):
            return f"column {name!r} is {schema.field(name).type}, expected string", ()
    return None, tuple(c for c in OPTIONAL if c in schema.names)


def open_grid_outputs(folders: list[Path], *, skip_bad: bool = False) -> tuple[list[ResultShard], list[BadShard]]:
    """Every result shard of every folder, verified against its manifest. A shard that
    is missing, truncated or of the wrong layout stops the run (naming it) unless
    `skip_bad`, when it is returned among the bad shards so its rows can be counted."""
    if not folders:
        raise InputError("no grid output given")
    shards: list[ResultShard] = []
    bad: list[BadShard] = []
    seen: set[str] = set()
    for folder in folders:
        folder = Path(folder)
        manifest = _manifest(folder)
        # the whole job identity (inputs, chunking, sandbox limits): two runs over the same inputs with
        # other settings are two jobs
        job = job_digest(manifest.get("job"))
        if job in seen:
            raise InputError(f"{folder}: the same grid job is given twice")
        seen.add(job)
        for entry in manifest.get("shards", []):
            path = folder / "results" / entry["name"]
            problem, columns = _check_shard(path, entry)
            if problem is None:
                shards.append(ResultShard(path, job, int(entry["rows"]), columns))
            elif skip_bad:
                bad.append(BadShard(path, int(entry.get("rows", 0)), problem))
            else:
                raise InputError(f"{path}: {problem}; pass --skip-bad-shards to curate without it")
    return sorted(shards, key=lambda s: (s.grid_job, s.path.name)), bad
