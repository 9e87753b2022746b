"""The worker side of the grid: warm sandboxes kept per Dask worker, an isolation
self-test before a worker takes any work, and `run_chunk`, the task that turns one
chunk of input rows into one committed result shard.

A snippet never runs in the Dask worker process: it runs in a jailed child of a
sandbox supervisor, so whatever it does comes back as a result, never as a dead worker.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import repeat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from distributed import WorkerPlugin, get_worker
from viscode.sandbox import Sandbox, SandboxError
from viscode.sandbox.result import ExecutionResult

from viscode.errors import InputError, first_line
from viscode.shards import IMAGE_ROW_GROUP, ShardInfo, sha256_file, write_parquet

from .inputs import FILES, Chunk, read_chunk
from .results import failed, results_table

log = logging.getLogger("viscode.grid")


class IsolationRefused(RuntimeError):
    """This worker cannot isolate snippets, so it takes no work."""


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    mode: str = "warm"
    timeout_s: float = 10.0
    memory_mb: int = 1024
    max_code_bytes: int = 256 * 1024

    @property
    def plugin_name(self) -> str:
        """One pool per distinct setting, so jobs with other limits never share sandboxes."""
        return "viscode-sandbox-" + "-".join(str(v) for v in asdict(self).values())


# Runs inside the jail; every check must come out False for the worker to take work.
SELF_TEST = """
import json, os, socket
leaks = {}
host, port = %(scheduler)r
try:
    socket.create_connection((host.encode(), port), timeout=1).close()  # bytes: no idna codec needed
    leaks["reaches the scheduler"] = True
except OSError:
    pass
for path in %(hidden)r:
    if os.path.exists(path):
        leaks["sees " + path] = True
for path in ("/usr/viscode-selftest", "/etc/viscode-selftest"):
    try:
        open(path, "w").close()
        leaks["writes " + path] = True
    except OSError:
        pass
uid_map = open("/proc/self/uid_map").read().split()
outside = dict(zip(uid_map[0::3], uid_map[1::3])).get(str(os.getuid()))
if os.getuid() == 0 or outside in (None, "0"):
    leaks["runs as host root"] = True
print("SELFTEST " + json.dumps(leaks))
import plotly.graph_objects as go
go.Figure(go.Bar(x=["a", "b"], y=[1, 2])).show()  # the renderer must draw before real work
"""


def self_test(sb: Sandbox, scheduler: tuple[str, int], hidden: list[str]) -> None:
    """Run a short hostile probe in `sb`, and one plotly figure through its renderer;
    raise IsolationRefused if anything leaks or the figure is not drawn."""
    result = sb.run(SELF_TEST % {"scheduler": scheduler, "hidden": hidden}, snippet_id="isolation-self-test")
    verdict = next((line[9:] for line in result.stdout.splitlines() if line.startswith("SELFTEST ")), None)
    if result.status != "ok" or verdict is None:
        raise IsolationRefused(f"isolation self-test did not run ({result.status}: {result.error_message})")
    leaks = json.loads(verdict)
    if leaks:
        raise IsolationRefused("isolation self-test failed: snippet " + ", ".join(sorted(leaks)))
    plotly = [i for i in result.images if i.source == "plotly"]
    if sb.render_plotly and not (plotly and plotly[0].png):
        why = plotly[0].render_error if plotly else "no figure captured"
        raise IsolationRefused(f"self-test: the plotly renderer gave no image ({why})")


class SandboxPool(WorkerPlugin):
    """Warm sandboxes for one worker, one per concurrently running chunk. Each is
    self-tested when created; a broken supervisor is replaced by Sandbox itself."""

    idempotent = True

    def __init__(self, settings: SandboxSettings):
        self.settings = settings
        self.name = settings.plugin_name

    def setup(self, worker) -> None:
        self._free: queue.SimpleQueue[Sandbox] = queue.SimpleQueue()
        self._all: list[Sandbox] = []
        self._lock = threading.Lock()
        host, _, port = worker.scheduler.address.rpartition("://")[2].rpartition(":")
        self._scheduler = (host.strip("[]"), int(port))
        self.address = worker.address
        # what a snippet must never see: root's home, host secrets, the worker's own scratch
        self.hidden = ["/root", "/etc/shadow", str(Path(worker.local_directory).absolute())]

    def teardown(self, worker) -> None:
        with self._lock:
            for sb in self._all:
                sb.close()
            self._all.clear()

    def _new(self) -> Sandbox:
        s = self.settings
        sb = Sandbox(s.mode, timeout_s=s.timeout_s, memory_mb=s.memory_mb, isolation="nsjail")
        try:
            sb.start()
            began = time.monotonic()
            self_test(sb, self._scheduler, self.hidden)
        except (SandboxError, IsolationRefused) as exc:
            sb.close()
            raise IsolationRefused(f"worker {self.address}: {exc}") from None
        log.info("worker %s: sandbox ready (%s, self-test %.1f s)", self.address,
                 ", ".join(f"{part} {seconds:.1f} s" for part, seconds in sb.startup.items()),
                 time.monotonic() - began)
        with self._lock:
            self._all.append(sb)
        return sb

    @contextmanager
    def sandbox(self) -> Iterator[Sandbox]:
        try:
            sb = self._free.get_nowait()
        except queue.Empty:
            sb = self._new()
        try:
            yield sb
        finally:
            self._free.put(sb)


def run_snippets(sb: Sandbox, ids: list[str], codes: list[str | None], max_code_bytes: int,
                 files: list | None = None) -> list[ExecutionResult]:
    """One result per row, in order. Rows the grid can judge without running (no code,
    code over the size cap) get an `error` result and never reach the sandbox, as do rows
    whose data files (`files`: per row a list of {name, data}, or None) the sandbox refuses;
    a `sandbox_error` is the infrastructure's failure, so that snippet gets one more try."""
    results = []
    for snippet_id, code, entries in zip(ids, codes, files or repeat(None)):
        size = len(code.encode("utf-8", "surrogatepass")) if code is not None else 0
        if code is None:
            results.append(failed(snippet_id, "NoCode", "the row's code is null"))
        elif size > max_code_bytes:
            results.append(failed(snippet_id, "CodeTooLarge",
                                  f"code of {size} bytes is over the {max_code_bytes}-byte cap per snippet"))
        else:
            try:
                named = _named_files(entries)
                result = sb.run(code, snippet_id=snippet_id, files=named)
                if result.status == "sandbox_error":  # our side failed, not the snippet: once more, fresh supervisor
                    result = sb.run(code, snippet_id=snippet_id, files=named)
            except InputError as exc:  # a bad name, too large: the row's fault, never the chunk's
                result = failed(snippet_id, "BadFiles", first_line(exc))
            results.append(result)
    return results


def _named_files(entries: list | None) -> dict[str, bytes]:
    """{name: data} for Sandbox.run; a name given twice is refused, as a dict would keep one silently."""
    named = {}
    for entry in entries or ():
        if entry is None:
            raise InputError("a data file entry is null")
        if entry["name"] in named:
            raise InputError(f"data file name {entry['name']!r} is given twice")
        named[entry["name"]] = entry["data"]
    return named


def shard_summary(path: Path, *, seconds: float = 0.0, worker: str = "", resumed: bool = False) -> dict:
    """What the driver records about a committed shard (never the rows themselves), read from the file."""
    statuses = pq.read_table(path, columns=["status"]).column("status")
    info = ShardInfo(path.name, len(statuses), path.stat().st_size, sha256_file(path))
    return _summary(info, statuses, seconds=seconds, worker=worker, resumed=resumed)


def _summary(info: ShardInfo, statuses: pa.ChunkedArray, *, seconds: float = 0.0, worker: str = "",
             resumed: bool = False) -> dict:
    return {**info.to_json(), "counts": dict(Counter(statuses.to_pylist())), "seconds": round(seconds, 3),
            "worker": worker, "resumed": resumed}


def _commit(table: pa.Table, final: Path, **how) -> dict:
    """Write the shard (first writer wins) and summarize it from what was written, without reading
    it back; a shard another attempt committed first is summarized from its file."""
    info = write_parquet(table, final, row_group_size=IMAGE_ROW_GROUP, exclusive=True)
    if info is None:
        return shard_summary(final, **how, resumed=True)
    return _summary(info, table.column("status"), **how)


def run_chunk(chunk: Chunk, settings: SandboxSettings, results_dir: str) -> dict:
    """The grid's task: run a chunk's snippets, commit its shard (first writer wins)."""
    final = Path(results_dir) / chunk.name
    if final.exists():  # committed by an earlier attempt that the driver never heard back from
        return shard_summary(final, resumed=True)
    started = time.monotonic()
    inputs = read_chunk(chunk)
    worker = get_worker()
    pool: SandboxPool = worker.plugins[settings.plugin_name]
    with pool.sandbox() as sb:
        results = run_snippets(sb, inputs.column("id").to_pylist(), inputs.column("code").to_pylist(),
                               settings.max_code_bytes,
                               inputs.column(FILES).to_pylist() if FILES in inputs.column_names else None)
    return _commit(results_table(inputs, results), final, seconds=time.monotonic() - started, worker=worker.address)


def quarantine_chunk(chunk: Chunk, results_dir: str, reason: str) -> dict:
    """Commit a chunk that kept killing workers: every row `sandbox_error`, so the job
    finishes with a result for each id and the rows can be retried on their own."""
    final, worker = Path(results_dir) / chunk.name, f"driver pid {os.getpid()}"
    if final.exists():
        return {**shard_summary(final, worker=worker), "quarantined": True}
    inputs = read_chunk(chunk)
    results = [failed(i, "ChunkQuarantined", reason, status="sandbox_error") for i in inputs.column("id").to_pylist()]
    return {**_commit(results_table(inputs, results), final, worker=worker), "quarantined": True}
