"""`viscode grid run|status|worker`: candidate shards in, results out."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from viscode.sandbox.result import STATUSES
from viscode.sandbox.sandbox import SandboxError, ensure_font_cache, nsjail_problem

from viscode.errors import UsageError

from .cluster import default_workers
from .executor import SandboxSettings
from .job import GridState, run_grid
from .status import JobStatus, job_status


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("grid", help="run candidate snippets on a Dask cluster, one sandbox per worker")
    sub = parser.add_subparsers(dest="grid_command", required=True)
    run = sub.add_parser("run", help="run every input snippet once; rerun the same command to resume")
    run.add_argument("inputs", nargs="+", metavar="INPUT", help="Parquet/JSONL files or folders (paths or fsspec URLs)")
    run.add_argument("--output", required=True, metavar="DIR")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help=f"embedded cluster size (default {default_workers()})")
    where.add_argument("--scheduler", metavar="ADDRESS", help="submit to a running cluster, e.g. tcp://host:8786")
    run.add_argument("--chunk-size", type=int, metavar="K", help="snippets per task and shard (default: by input size)")
    run.add_argument("--timeout", type=float, default=10.0, metavar="S", help="wall-clock seconds per snippet")
    run.add_argument("--memory-mb", type=int, default=1024, metavar="M", help="memory limit per snippet")
    run.add_argument("--mode", choices=("warm", "cold"), default="warm")
    run.add_argument("--max-code-kb", type=int, default=256, metavar="KB", help="larger snippets get status error")
    run.add_argument("--force", action="store_true", help="replace results of a different job in DIR")
    run.set_defaults(handler=run_command)
    status = sub.add_parser("status", help="summarize a finished or running job from its output folder")
    status.add_argument("output", metavar="DIR")
    status.set_defaults(handler=status_command)
    worker = sub.add_parser("worker", help="check this host's sandbox, then start Dask workers for a scheduler")
    worker.add_argument("scheduler", metavar="ADDRESS")
    worker.add_argument("--nworkers", type=int, default=default_workers(), metavar="N",
                        help="worker processes, one sandbox each (default: the CPUs)")
    worker.add_argument("dask_args", nargs=argparse.REMAINDER, help="further `dask worker` options, after --")
    worker.set_defaults(handler=worker_command)


def _settings(args: argparse.Namespace) -> SandboxSettings:
    for flag, value in (("--timeout", args.timeout), ("--memory-mb", args.memory_mb),
                        ("--max-code-kb", args.max_code_kb), ("--workers", args.workers),
                        ("--chunk-size", args.chunk_size)):
        if value is not None and value <= 0:
            raise UsageError(f"{flag} must be positive, got {value}")
    return SandboxSettings(args.mode, args.timeout, args.memory_mb, args.max_code_kb * 1024)


def _statuses(counts) -> str:
    return " ".join(f"{s}={counts[s]}" for s in STATUSES if counts.get(s))


def quiet_dask_logs() -> None:
    """The driver reports every failure itself, in one line; Dask's own tracebacks are noise here."""
    for name in [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"] + ["distributed"]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def run_command(args: argparse.Namespace, console: Console) -> int:
    settings = _settings(args)
    quiet_dask_logs()
    err = Console(stderr=True, soft_wrap=True)
    progress = Progress(TextColumn("[bold]grid"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                        TextColumn("{task.fields[chunks]}"), TextColumn("{task.fields[rate]}"),
                        TextColumn("{task.fields[statuses]}"), TimeElapsedColumn(), console=err)
    task = None

    def update(state: GridState) -> None:
        nonlocal task
        if task is None:
            err.print(f"dashboard: {state.dashboard or '-'}   workers: {state.workers}   output: {state.output}", markup=False)
            task = progress.add_task("grid", total=state.rows_total, chunks="", rate="", statuses="")
            progress.start()
        progress.update(task, completed=state.rows_done, chunks=f"{state.chunks_done}/{state.chunks_total} chunks",
                        rate=f"{state.rate:,.1f} rows/s", statuses=_statuses(state.counts))

    try:
        state = run_grid(args.inputs, args.output, settings=settings, chunk_size=args.chunk_size,
                         scheduler=args.scheduler, workers=args.workers, force=args.force, on_update=update)
    finally:
        progress.stop()
    console.print(summary_table(state))
    resumed = f", {state.chunks_resumed} resumed" if state.chunks_resumed else ""
    console.print(f"{state.rows_done} rows in {state.chunks_total} chunks{resumed}, {state.retries} retries, "
                  f"{len(state.quarantined)} quarantined; {state.rows_this_run} run now in {state.elapsed:.1f} s "
                  f"({state.rate:,.1f} rows/s on {state.workers} workers)")
    console.print(f"results: {state.output / 'results'}   manifest: {state.output / 'manifest.json'}", markup=False)
    return 0


def summary_table(state: GridState | JobStatus) -> Table:
    table = Table(title="grid results by status")
    table.add_column("status")
    table.add_column("rows", justify="right")
    table.add_column("share", justify="right")
    total = sum(state.counts.values()) or 1
    for s in STATUSES:
        if state.counts.get(s):
            table.add_row(s, f"{state.counts[s]:,}", f"{100 * state.counts[s] / total:.1f}%")
    return table


def status_command(args: argparse.Namespace, console: Console) -> int:
    st = job_status(args.output)
    console.print(summary_table(st))
    line = (f"{st.output}: {st.state}; {st.rows_done:,}/{st.rows:,} rows, {st.chunks_done}/{st.chunks} chunks")
    if st.rows_per_s:
        line += f", {st.rows_per_s:,.1f} rows/s"
    if st.driver:
        line += f"; driver: {st.driver}"
    console.print(line, markup=False)
    if st.quarantined:
        console.print(f"quarantined chunks: {', '.join(st.quarantined)}")
    if st.error:
        console.print(f"[red]stopped by:[/] {escape(st.error)}")
    return 0


def worker_command(args: argparse.Namespace, console: Console) -> int:
    """Refuse to join a cluster from a host that cannot jail snippets; otherwise become
    `dask worker` with one thread (one warm sandbox) per worker process."""
    problem = nsjail_problem()
    if problem:
        raise SandboxError(f"this host cannot run the sandbox: {problem} (run scripts/setup.sh)")
    console.print(f"sandbox ok; font cache {ensure_font_cache('nsjail')}")
    extra = [a for a in args.dask_args if a != "--"]
    argv = [sys.executable, "-m", "distributed.cli.dask_worker", args.scheduler, "--nthreads", "1",
            "--nworkers", str(args.nworkers), *extra]
    console.print("starting: " + " ".join(argv[1:]))
    sys.stdout.flush()
    os.execv(sys.executable, argv)
