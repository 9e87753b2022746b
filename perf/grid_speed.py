"""Grid speed against the bare sandbox, all measured in this one run on this machine.

Paths, each over the same synthesized candidates (`candidates synth`, seed 1):
  bare x1/x2   one or two warm Sandboxes (threads of this process) running the snippets,
               dealt out round-robin (the sandbox's own per-snippet cost: the baselines)
  grid 1 / 2   the grid on the embedded LocalCluster with 1 and 2 workers, warm mode
  grid cold    the grid with 2 workers in cold mode (a new jail per snippet)
Grid runs are timed end to end by the driver (planning, scheduling, reading chunks,
sandboxes, writing and hashing shards, manifest) after one warm-up job on the same
cluster, so they compare steady-state costs. The per-core cost is wall x workers / rows.

Driver memory: the driver's peak RSS (scheduler included: the embedded cluster runs it
in the driver process) for 10k and 100k trivial snippets, each in a fresh process.

Candidate sources: `candidates synth` on every CPU against one process, and `candidates harvest` of a tar.gz
and of a Parquet dump against just reading and decoding the same items.

Usage: .venv/bin/python perf/grid_speed.py [--part all|candidates|grid|memory] [--rows N]
       [--cold-rows N] [--memory-rows 10000,100000]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table
from viscode.grid.candidates.harvest import harvest
from viscode.grid.candidates.synth import synthesize, write_synth
from viscode.grid.cluster import connect
from viscode.grid.executor import SandboxSettings
from viscode.grid.job import run_grid
from viscode.sandbox import Sandbox


def candidates(path: Path, rows: int, seed: int) -> Path:
    table = pa.Table.from_pylist([{"id": r["id"], "code": r["code"]} for r in synthesize(rows, seed)])
    pq.write_table(table, path)
    return path


def run_all(sb: Sandbox, snippets: list[tuple[str, str]]) -> None:
    for snippet_id, code in snippets:
        sb.run(code, snippet_id=snippet_id)


def read_snippets(path: Path) -> list[tuple[str, str]]:
    table = pq.read_table(path)
    return list(zip(table.column("id").to_pylist(), table.column("code").to_pylist()))


def bare_sandboxes(path: Path, warmup: Path, count: int) -> float:
    """Seconds for `count` warm sandboxes (one thread each, started and warmed on the
    grid's warm-up set beforehand) to run the snippets, dealt out round-robin."""
    snippets, warm = read_snippets(path), read_snippets(warmup)
    sandboxes = [Sandbox("warm", isolation="nsjail") for _ in range(count)]
    ready = threading.Barrier(count + 1)

    def work(n: int) -> None:
        run_all(sandboxes[n], warm)
        ready.wait()
        run_all(sandboxes[n], snippets[n::count])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    try:
        for t in threads:
            t.start()
        ready.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        return time.perf_counter() - started
    finally:
        for sb in sandboxes:
            sb.close()


def grid_seconds(path: Path, warmup: Path, workers: int, mode: str, work: Path) -> tuple[float, dict]:
    settings = SandboxSettings(mode=mode)
    with connect(workers=workers, dashboard_address=":0") as client:
        run_grid([str(warmup)], work / f"warm-{workers}-{mode}", settings=settings, client=client)
        started = time.perf_counter()
        state = run_grid([str(path)], work / f"grid-{workers}-{mode}", settings=settings, client=client)
        return time.perf_counter() - started, dict(state.counts)


def driver_memory(rows: int) -> dict:
    """Run in a fresh process: peak RSS of a driver running `rows` trivial snippets."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "trivial.parquet"
        pq.write_table(pa.table({"id": [f"t{i:07d}" for i in range(rows)], "code": [f"x = {i}" for i in range(rows)]}),
                       src)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        state = run_grid([str(src)], Path(tmp) / "out", workers=2)
        return {"rows": rows, "seconds": time.perf_counter() - started, "chunks": state.chunks_total,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "start_mb": base / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--cold-rows", type=int, default=60)
    parser.add_argument("--memory-rows", default="10000,100000")
    parser.add_argument("--part", choices=("all", "candidates", "grid", "memory"), default="all")
    parser.add_argument("--driver-memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver_memory:
        print(json.dumps(driver_memory(args.driver_memory)))
        return
    console = Console(width=140)
    if args.part in ("all", "candidates"):
        candidates_table(console)
    if args.part in ("all", "grid"):
        grid_table(args, console)
    if args.part in ("all", "memory"):
        memory_table(args, console)


def candidates_table(console: Console, programs: int = 50_000) -> None:
    """Candidate sources against their floors: synth on every CPU vs one process; harvest
    vs just reading the same archive members / Parquet column."""
    table = Table(title=f"candidate sources ({programs:,} synthesized programs)")
    for col in ("path", "items/s", "floor", "floor items/s", "ratio to floor"):
        table.add_column(col, justify="left" if col in ("path", "floor") else "right")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        sum(1 for _ in synthesize(programs, 9))
        one = time.perf_counter() - started
        started = time.perf_counter()
        write_synth(work / "synth", programs, 9)
        every = time.perf_counter() - started
        table.add_row("candidates synth (all CPUs, shards)", f"{programs / every:,.0f}", "synthesize() in one process",
                      f"{programs / one:,.0f}", f"{one / every:.2f}x faster")
        codes = [c for shard in sorted((work / "synth").glob("*.parquet"))
                 for c in pq.read_table(shard, columns=["code"]).column("code").to_pylist()]
        archive = work / "code.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for i, code in enumerate(codes):
                data = code.encode()
                info = tarfile.TarInfo(f"repo/{i:06d}.py")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        pq.write_table(pa.table({"content": codes}), work / "dump.parquet")
        for name, source, floor in (("candidates harvest tar.gz of .py files", archive, _read_tar),
                                    ("candidates harvest Parquet dump", work / "dump.parquet", _read_parquet_column)):
            started = time.perf_counter()
            floor(source)
            base = time.perf_counter() - started
            started = time.perf_counter()
            harvest([str(source)], work / f"out-{source.stem}")
            took = time.perf_counter() - started
            table.add_row(name, f"{programs / took:,.0f}", "read and decode only", f"{programs / base:,.0f}",
                          f"{took / base:.1f}x slower")
    console.print(table)


def _read_tar(path: Path) -> None:
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            tar.extractfile(member).read().decode()


def _read_parquet_column(path: Path) -> None:
    for batch in pq.ParquetFile(path).iter_batches(columns=["content"]):
        batch.column(0).to_pylist()


def grid_table(args: argparse.Namespace, console: Console) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src, cold_src = candidates(work / "c.parquet", args.rows, 1), candidates(work / "cold.parquet", args.cold_rows, 1)
        warmup = candidates(work / "warmup.parquet", 32, 2)
        bare = {n: bare_sandboxes(src, warmup, n) for n in (1, 2)}
        rows = [(f"bare sandbox x{n} (threads of one process)", n, args.rows, bare[n], None) for n in (1, 2)]
        for workers in (1, 2):
            wall, counts = grid_seconds(src, warmup, workers, "warm", work)
            rows.append((f"grid warm, {workers} worker(s)", workers, args.rows, wall, counts))
        wall, counts = grid_seconds(cold_src, warmup, 2, "cold", work)
        rows.append(("grid cold, 2 workers", 2, args.cold_rows, wall, counts))
    table = Table(title=f"grid vs bare sandboxes ({args.rows} synthesized snippets; cold: {args.cold_rows})")
    for col in ("path", "snippets/s", "ms per snippet per core", "ratio to bare x1", "ratio to bare, same count",
                "statuses"):
        table.add_column(col, justify="left" if col in ("path", "statuses") else "right")
    for name, workers, n, wall, counts in rows:
        per_core = wall * workers / n
        same = bare[workers] * workers / args.rows
        table.add_row(name, f"{n / wall:.1f}", f"{1000 * per_core:.1f}", f"{per_core / (bare[1] / args.rows):.2f}x",
                      f"{per_core / same:.2f}x", " ".join(f"{k}={v}" for k, v in sorted((counts or {}).items())))
    console.print(table)
    console.print(f"scaling 1 -> 2 workers: grid {rows[2][3] / rows[3][3]:.2f}x, bare sandboxes {bare[1] / bare[2]:.2f}x")


def memory_table(args: argparse.Namespace, console: Console) -> None:
    memory = Table(title="driver peak memory (trivial snippets, embedded cluster with 2 workers)")
    for col in ("snippets", "chunks", "wall s", "peak RSS MB", "ratio to first"):
        memory.add_column(col, justify="right")
    results = []
    for n in (int(x) for x in args.memory_rows.split(",")):
        child = subprocess.run([sys.executable, __file__, "--driver-memory", str(n)], capture_output=True, text=True,
                               check=True)
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    for r in results:
        memory.add_row(f"{r['rows']:,}", str(r["chunks"]), f"{r['seconds']:.0f}", f"{r['peak_mb']:.0f}",
                       f"{r['peak_mb'] / results[0]['peak_mb']:.2f}x")
    console.print(memory)


if __name__ == "__main__":
    main()
