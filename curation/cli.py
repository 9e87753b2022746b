"""`viscode curate` (grid results in, curated shards out) and `viscode shards pull`."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from viscode.curation.code_feedback import FeedbackFilter
from viscode.curation.decide import Caps
from viscode.curation.llm import LLMConfig
from viscode.curation.pipeline import CurationConfig, CurationReport, curate
from viscode.curation.pull import pull
from viscode.curation.tags import CHART_KINDS, LIBRARIES
from viscode.grid.cli import quiet_dask_logs
from viscode.grid.executor import SandboxSettings
from viscode.grid.job import GridState

from viscode.cache import cache_root
from viscode.errors import UsageError

DEFAULTS = CurationConfig()
LLM_DEFAULTS = {f.name: f.default for f in fields(LLMConfig)}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "curate", help="grid results in; verified, deduplicated, instruction-paired training shards out")
    parser.add_argument("inputs", nargs="+", metavar="GRID_OUTPUT", help="folders written by `viscode grid run`")
    parser.add_argument("--output", required=True, metavar="DIR")
    parser.add_argument("--force", action="store_true", help="replace a curated dataset already in DIR")
    parser.add_argument("--val-fraction", type=float, default=DEFAULTS.val_fraction, metavar="F",
                        help="share of snippets in the val split, chosen by a digest of the snippet id")
    parser.add_argument("--instructions", choices=("rules", "llm"), default="rules",
                        help="five-part instructions from code analysis, or from an OpenAI-compatible endpoint")
    parser.add_argument("--endpoint", metavar="URL", help="llm: base URL, e.g. http://localhost:8000/v1")
    parser.add_argument("--model", metavar="NAME", help="llm: model name")
    parser.add_argument("--llm-rpm", type=float, default=LLM_DEFAULTS["requests_per_minute"], metavar="N",
                        help="llm: requests per minute")
    parser.add_argument("--llm-concurrency", type=int, default=LLM_DEFAULTS["concurrency"], metavar="N",
                        help="llm: requests in flight")
    parser.add_argument("--llm-cache", type=Path, metavar="DIR",
                        help="llm: response cache (default ~/.cache/viscode/llm)")
    parser.add_argument("--cap-library", action="append", default=[], metavar="LIB=N",
                        help="keep at most N rows of this library (repeatable)")
    parser.add_argument("--cap-chart-kind", action="append", default=[], metavar="KIND=N",
                        help="keep at most N rows showing this chart kind (repeatable)")
    parser.add_argument("--benchmark", action="append", type=Path, default=[], metavar="FILE",
                        help="more benchmark task files to decontaminate against (JSONL/JSON/Parquet)")
    parser.add_argument("--decontam-threshold", type=float, default=DEFAULTS.decontam_threshold, metavar="F",
                        help="drop rows whose n-gram overlap with a benchmark task reaches F (0 < F <= 1)")
    parser.add_argument("--repair-fraction", type=float, default=DEFAULTS.repair_fraction, metavar="F",
                        help="share of kept snippets that get a grid-verified repair dialogue (0 = none)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="repair variants: embedded cluster size")
    where.add_argument("--scheduler", metavar="ADDRESS", help="repair variants: a running grid cluster")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="repair variants: seconds each")
    parser.add_argument("--code-feedback", action="append", type=Path, default=[], metavar="JSONL",
                        help="import multi-turn dialogues in Code-Feedback's layout (repeatable)")
    parser.add_argument("--max-turns", type=int, default=DEFAULTS.feedback_filter.max_turns, metavar="N",
                        help="code-feedback: longest dialogue kept, in turns")
    parser.add_argument("--max-chars", type=int, default=DEFAULTS.feedback_filter.max_chars, metavar="N",
                        help="code-feedback: longest dialogue kept, in characters")
    parser.add_argument("--shard-rows", type=int, default=DEFAULTS.shard_rows, metavar="N", help="rows per output shard")
    parser.add_argument("--jobs", type=int, default=DEFAULTS.jobs, metavar="N",
                        help="processes for the per-shard work")
    parser.add_argument("--skip-bad-shards", action="store_true",
                        help="curate without result shards that are missing or truncated (counted in the card)")
    parser.set_defaults(handler=curate_command)

    shards = subparsers.add_parser("shards", help="pull curated shards")
    sub = shards.add_subparsers(dest="shards_command", required=True)
    pull_parser = sub.add_parser("pull", help="copy curated shards from any fsspec URL, verified and resumable")
    pull_parser.add_argument("src", metavar="SRC", help="curated output folder: a path or fsspec URL")
    pull_parser.add_argument("--output", required=True, type=Path, metavar="DIR",
                             help="the local copy (resumed and checked when DIR already holds one)")
    pull_parser.add_argument("--kind", action="append", choices=("single", "repair"), help="keep only these kinds")
    pull_parser.add_argument("--library", action="append", metavar="LIB", help="keep only these libraries")
    pull_parser.add_argument("--split", action="append", choices=("train", "val"), help="only these splits")
    pull_parser.set_defaults(handler=pull_command)


def _caps(values: list[str], flag: str, known: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    caps = {}
    for value in values:
        name, _, number = value.partition("=")
        if not name or not number.isdigit():
            raise UsageError(f"{flag} takes NAME=N with N a whole number, got {value!r}")
        if name not in known:
            raise UsageError(f"{flag}: unknown name {name!r}; one of {', '.join(known)}")
        caps[name] = int(number)
    return tuple(sorted(caps.items()))


def config_from(args: argparse.Namespace) -> CurationConfig:
    llm = None
    if args.instructions == "llm":
        if not args.endpoint or not args.model:
            raise UsageError("--instructions llm needs --endpoint URL and --model NAME")
        cache = args.llm_cache or cache_root() / "llm"
        llm = LLMConfig(endpoint=args.endpoint, model=args.model, requests_per_minute=args.llm_rpm,
                        concurrency=args.llm_concurrency, cache_dir=cache)
    elif args.endpoint or args.model:
        raise UsageError("--endpoint and --model need --instructions llm")
    for flag, value in (("--timeout", args.timeout), ("--workers", args.workers), ("--shard-rows", args.shard_rows),
                        ("--jobs", args.jobs), ("--max-turns", args.max_turns), ("--max-chars", args.max_chars)):
        if value is not None and value <= 0:
            raise UsageError(f"{flag} must be positive, got {value}")
    return CurationConfig(
        val_fraction=args.val_fraction, llm=llm,
        caps=Caps(_caps(args.cap_library, "--cap-library", LIBRARIES),
                  _caps(args.cap_chart_kind, "--cap-chart-kind", CHART_KINDS)),
        benchmarks=tuple(args.benchmark), decontam_threshold=args.decontam_threshold,
        repair_fraction=args.repair_fraction, repair_settings=SandboxSettings(timeout_s=args.timeout),
        scheduler=args.scheduler, workers=args.workers, code_feedback=tuple(args.code_feedback),
        feedback_filter=FeedbackFilter(max_turns=args.max_turns, max_chars=args.max_chars),
        shard_rows=args.shard_rows, jobs=args.jobs, skip_bad_shards=args.skip_bad_shards)


def stage_table(report: CurationReport) -> Table:
    table = Table(title="curation, stage by stage")
    for name, justify in (("stage", "left"), ("in", "right"), ("kept", "right"), ("dropped", "left")):
        table.add_column(name, justify=justify)
    for stage in report.stages:
        dropped = ", ".join(f"{k}={v:,}" for k, v in stage.dropped.items()) or "-"
        table.add_row(stage.name, f"{stage.input:,}", f"{stage.kept:,}", dropped)
    return table


def curate_command(args: argparse.Namespace, console: Console) -> int:
    config = config_from(args)
    quiet_dask_logs()
    err = Console(stderr=True, soft_wrap=True)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, transient=True)
    tasks: dict[str, int] = {}

    def step(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total)
        progress.update(tasks[name], completed=done, total=total)

    def grid(state: GridState) -> None:
        step("repair variants on the grid", state.rows_done, state.rows_total)

    with progress:
        report = curate(args.inputs, args.output, config, force=args.force, on_progress=step, on_grid=grid)
    console.print(stage_table(report))
    rows = report.rows
    console.print(f"{report.input_rows:,} grid rows in, {rows['train']:,} train + {rows['val']:,} val rows out "
                  f"in {report.wall_s:.1f} s ({report.input_rows / max(report.wall_s, 1e-9):,.0f} rows/s)")
    console.print(f"shards: {report.output}/train, {report.output}/val ({len(report.shards)} in all)   "
                  f"manifest: {report.output / 'manifest.json'}   card: {report.output / 'card.md'}", markup=False)
    return 0


def pull_command(args: argparse.Namespace, console: Console) -> int:
    err = Console(stderr=True, soft_wrap=True)
    progress = Progress(TextColumn("[bold]pull"), BarColumn(), MofNCompleteColumn(), TextColumn("shards"),
                        TimeElapsedColumn(), console=err, transient=True)
    with progress:
        task = progress.add_task("pull", total=None)
        report = pull(args.src, args.output, kinds=args.kind, libraries=args.library, splits=args.split,
                      on_progress=lambda _, done, total: progress.update(task, completed=done, total=total))
    console.print(f"{report.shards} shard(s): {report.copied} copied ({report.resumed} resumed), "
                  f"{report.skipped} already present; {report.rows:,} rows, {report.bytes / 2**20:,.1f} MiB"
                  + (f", {report.filtered_out:,} rows filtered out" if report.filtered_out else ""))
    console.print(f"shards and manifest.json in {report.dest}", markup=False)
    return 0
