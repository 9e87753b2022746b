"""The grid driver: plan the job, skip what is already committed, keep a bounded number
of chunks in flight, retry chunks whose worker died, quarantine chunks that keep
killing workers, and write the manifest.

Resume comes from the output folder, never from Dask (a scheduler keeps no state
across a crash): a shard that exists is finished, because shards are committed by an
atomic link. The driver holds one small summary per chunk, never rows or futures for
the whole job, so its memory does not grow with the number of snippets.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

from distributed import Client, KilledWorker, wait
from distributed.client import FuturesCancelledError
from distributed.comm.core import CommClosedError
from viscode.sandbox.result import SCHEMA_VERSION

from viscode.errors import first_line
from viscode.shards import claim, lock_folder, manifest_of, remove_orphan_temps, write_json

from .cluster import ClusterUnavailable, connect
from .executor import IsolationRefused, SandboxPool, SandboxSettings, quarantine_chunk, run_chunk, shard_summary
from .inputs import Chunk, InputError, Plan, plan

MANIFEST_KIND = "grid-results"
OWNED = ("results", "progress.jsonl", "manifest.json")  # what a job writes in its folder
MAX_ATTEMPTS = 3
POLL_S = 5.0  # how often the driver checks its scheduler connection while waiting
WORKER_WAIT_S = 120


class GridError(RuntimeError):
    """The job cannot go on (named cause); finished shards stay and a rerun resumes."""


@dataclass
class GridState:
    """Live counters the driver updates as chunks finish (progress display, summary)."""

    output: Path
    rows_total: int = 0
    chunks_total: int = 0
    rows_done: int = 0
    chunks_done: int = 0
    chunks_resumed: int = 0
    retries: int = 0
    quarantined: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    dashboard: str | None = None
    workers: int = 0
    started: float = field(default_factory=time.monotonic)
    rows_this_run: int = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.rows_this_run / self.elapsed if self.elapsed > 0 else 0.0


def job_identity(p: Plan, settings: SandboxSettings) -> dict:
    """What makes two runs the same job: same input bytes, chunking and limits."""
    return {"fingerprint": p.fingerprint, "chunk_size": p.chunk_size, "settings": asdict(settings),
            "result_schema_version": SCHEMA_VERSION, "inputs": [asdict(f) for f in p.files]}


def job_digest(identity: dict) -> str:
    """One string naming a job: a digest of its whole identity (recorded in manifests as `job`)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def load_log(output: Path) -> dict[str, dict]:
    entries = {}
    log = output / "progress.jsonl"
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                entry = json.loads(line)
                entries[entry["name"]] = entry
            except (ValueError, KeyError):
                continue  # a line torn by a crash: the shard itself is re-read below
    return entries


def _manifest(identity: dict, state: GridState, shards: list[dict], *, status: str, error: str | None = None) -> dict:
    """`rows` counts the job's input rows: while it runs, fewer are in shards."""
    return manifest_of(MANIFEST_KIND, SCHEMA_VERSION,
                    [{k: s[k] for k in ("name", "rows", "bytes", "sha256", "counts")} for s in shards],
                    rows=state.rows_total, state=status, error=error, job=identity, chunks=state.chunks_total,
                    rows_done=state.rows_done, status_counts=dict(sorted(state.counts.items())),
                    quarantined=state.quarantined, retries=state.retries, wall_s=round(state.elapsed, 3),
                    rows_per_s=round(state.rate, 2), updated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def run_grid(inputs: list[str], output: str | Path, *, settings: SandboxSettings | None = None,
             chunk_size: int | None = None, scheduler: str | None = None, workers: int | None = None,
             client: Client | None = None, force: bool = False, max_attempts: int = MAX_ATTEMPTS,
             on_update: Callable[[GridState], None] | None = None) -> GridState:
    """Run every input snippet once, writing `output/results/*.parquet` and
    `output/manifest.json`. Returns the final counters. Raises InputError for bad
    input (before anything is written) and GridError when the job cannot go on."""
    output = Path(output).absolute()
    settings = settings or SandboxSettings()
    job_plan = plan(list(inputs), chunk_size, job_key=json.dumps(asdict(settings), sort_keys=True))
    identity = job_identity(job_plan, settings)
    lock = lock_folder(output)
    try:
        claim(output, identity, force=force, what="grid job", owned=OWNED)
        results = output / "results"
        results.mkdir(exist_ok=True)
        remove_orphan_temps(results)
        remove_orphan_temps(output)
        state = GridState(output, rows_total=job_plan.rows, chunks_total=len(job_plan.chunks))
        committed = load_log(output)
        shards, todo = [], []
        for chunk in job_plan.chunks:
            if (results / chunk.name).exists():
                summary = committed.get(chunk.name) or shard_summary(results / chunk.name, resumed=True)
                shards.append(summary)
                state.chunks_resumed += 1
                _count(state, summary)
            else:
                todo.append(chunk)
        write_json(_manifest(identity, state, shards, status="running"), output / "manifest.json")
        try:
            if todo:
                with _client(client, scheduler, workers) as c:
                    _drive(c, todo, settings, state, shards, max_attempts, on_update)
            elif on_update:
                on_update(state)
        except (GridError, InputError, ClusterUnavailable) as exc:
            write_json(_manifest(identity, state, shards, status="failed", error=str(exc)), output / "manifest.json")
            raise
        planned = {c.name for c in job_plan.chunks}
        for stray in results.glob("*.parquet"):  # a late attempt of a job this one replaced (--force)
            if stray.name not in planned:
                stray.unlink()
        shards.sort(key=lambda s: s["name"])
        if state.rows_done != state.rows_total:
            raise GridError(f"{output}: {state.rows_done} result rows for {state.rows_total} input rows")
        write_json(_manifest(identity, state, shards, status="complete"), output / "manifest.json")
        return state
    finally:
        lock.close()


def _client(client: Client | None, scheduler: str | None, workers: int | None):
    if client is not None:
        return nullcontext(client)
    return connect(scheduler, workers)


def _count(state: GridState, summary: dict) -> None:
    state.rows_done += summary["rows"]
    state.chunks_done += 1
    state.counts.update(summary["counts"])
    if summary.get("quarantined"):
        state.quarantined.append(summary["name"])


def _is_worker_loss(exc: BaseException) -> bool:
    """Only a dead worker is a reason to retry a chunk; anything else is a real error."""
    return isinstance(exc, (KilledWorker, CommClosedError))


def _drive(client: Client, todo: list[Chunk], settings: SandboxSettings, state: GridState,
           shards: list[dict], max_attempts: int, on_update) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError:
        raise ClusterUnavailable(f"no worker joined the cluster within {WORKER_WAIT_S} s") from None
    client.register_plugin(SandboxPool(settings))
    state.dashboard = client.dashboard_link
    with open(state.output / "progress.jsonl", "a") as log:
        try:
            _Driver(client, todo, settings, state, shards, max_attempts, on_update, log).run()
        except CommClosedError as exc:  # the driver's own link to the cluster broke mid-call
            raise GridError(f"lost the connection to the cluster ({first_line(exc)}); "
                            "rerun the same command to resume") from None


class _Driver:
    """One chunk in flight per worker thread, topped up as results return: a worker never
    holds a queued chunk, so when it dies only the chunk it was running is charged."""

    def __init__(self, client: Client, todo: list[Chunk], settings: SandboxSettings, state: GridState,
                 shards: list[dict], max_attempts: int, on_update, log) -> None:
        self.client, self.settings, self.state, self.shards = client, settings, state, shards
        self.max_attempts, self.on_update, self.log = max_attempts, on_update, log
        self.pending = iter(todo)
        self.retrying: deque[Chunk] = deque()  # chunks whose worker died, first in line
        self.in_flight: set = set()
        self.attempts: Counter[str] = Counter()
        self.results_dir = state.output / "results"

    def run(self) -> None:
        self.top_up()
        while self.in_flight:
            try:
                finished, _ = wait(list(self.in_flight), timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                finished = set()
            except FuturesCancelledError as exc:  # e.g. the scheduler connection was lost
                raise GridError(f"the cluster cancelled chunks ({first_line(exc)}); "
                                "rerun the same command to resume") from None
            if self.client.status not in ("running", "connecting"):
                raise GridError(f"lost the connection to the scheduler (client {self.client.status}); "
                                "rerun the same command to resume")
            for future in finished:
                self.in_flight.discard(future)
                self.finish(future)
            self.top_up()

    def submit(self, chunk: Chunk) -> None:
        key = f"viscode-chunk-{chunk.name.removesuffix('.parquet')}-a{self.attempts[chunk.name]}-{os.getpid()}"
        future = self.client.submit(run_chunk, chunk, self.settings, str(self.results_dir), key=key, pure=False)
        future.chunk = chunk
        self.in_flight.add(future)

    def top_up(self) -> None:
        """Also picks up workers that joined since the last call."""
        nthreads = self.client.nthreads()
        self.state.workers = len(nthreads)
        while len(self.in_flight) < max(1, sum(nthreads.values())) and (chunk := self._next_chunk()):
            self.submit(chunk)
        if self.on_update:
            self.on_update(self.state)

    def _next_chunk(self) -> Chunk | None:
        return self.retrying.popleft() if self.retrying else next(self.pending, None)

    def done(self, summary: dict) -> None:
        if not (self.results_dir / summary["name"]).exists():
            raise GridError(f"{summary['worker']} committed {summary['name']} but the driver cannot see it in "
                            f"{self.results_dir}: the output must be on storage shared by every worker")
        self.shards.append(summary)
        _count(self.state, summary)
        self.state.rows_this_run += summary["rows"]
        self.log.write(json.dumps(summary) + "\n")
        self.log.flush()

    def finish(self, future) -> None:
        """Record a finished chunk; retry it if its worker died; quarantine it after
        max_attempts; stop the job on any other failure."""
        chunk = future.chunk
        try:
            if future.status == "finished":
                self.done(future.result())
                return
            exc = future.exception() if future.status == "error" else None
        finally:
            future.release()
        if exc is None or isinstance(exc, (IsolationRefused, InputError)):
            raise GridError(str(exc) if exc else f"chunk {chunk.name} was cancelled by the cluster; rerun to resume")
        if not _is_worker_loss(exc):
            raise GridError(f"chunk {chunk.name} failed on a worker: {type(exc).__name__}: {first_line(exc)}")
        self.attempts[chunk.name] += 1
        self.state.retries += 1
        if self.attempts[chunk.name] < self.max_attempts:
            self.retrying.append(chunk)  # submitted by top_up once a worker thread is free
            return
        reason = f"its worker died {self.attempts[chunk.name]} times (last: {type(exc).__name__}: {first_line(exc)})"
        try:
            self.done(quarantine_chunk(chunk, str(self.results_dir), reason))
        except OSError as err:
            raise GridError(f"cannot write the quarantined shard {chunk.name}: {err}") from None
