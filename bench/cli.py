"""`viscode bench run` (score a model on PandasPlotBench, with self-debug) and `viscode bench
compare` (is one run's pass rate really better than another's?)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from viscode.bench.prompts import LIBRARIES

from viscode.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="benchmark a model on PandasPlotBench with self-debug")
    sub = parser.add_subparsers(dest="bench_command", required=True)

    run = sub.add_parser("run", help="generate, execute in the sandbox, self-debug, score; rerunning resumes")
    run.add_argument("--model", metavar="PATH_OR_NAME",
                     help="a model folder (e.g. a `viscode train` final/) or hub name; with --endpoint, use "
                          "--model-name")
    run.add_argument("--endpoint", metavar="URL", help="OpenAI-compatible base URL, e.g. http://host:8000/v1")
    run.add_argument("--model-name", metavar="NAME", help="the model's name at --endpoint")
    run.add_argument("--output", required=True, type=Path, metavar="DIR")
    run.add_argument("--tasks", metavar="FILE", help="PandasPlotBench rows as .parquet or .jsonl (default: the 99 shipped)")
    run.add_argument("--libraries", default=",".join(LIBRARIES), metavar="LIBS", help="comma-separated")
    run.add_argument("--self-debug", type=int, default=3, metavar="K", help="repair rounds for failed tasks (0: off)")
    run.add_argument("--limit", type=int, metavar="N", help="the first N tasks only")
    run.add_argument("--max-new-tokens", type=int, default=3000, metavar="N")
    run.add_argument("--batch-size", type=int, default=8, metavar="N", help="local model: prompts per batch")
    run.add_argument("--concurrency", type=int, default=8, metavar="N", help="requests in flight per endpoint")
    run.add_argument("--request-timeout", type=float, default=600.0, metavar="S", help="seconds per request")
    run.add_argument("--requests-per-minute", type=float, default=60_000.0, metavar="N",
                     help="per endpoint, retries included (lower it for a rate-limited API)")
    run.add_argument("--max-retries", type=int, default=4, metavar="N", help="retries per failed request")
    run.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per execution")
    run.add_argument("--memory-mb", type=int, default=1024, metavar="MB", help="memory per execution")
    run.add_argument("--judge-endpoint", metavar="URL", help="OpenAI-compatible vision endpoint for scores")
    run.add_argument("--judge-model", metavar="NAME")
    run.add_argument("--judge-price", nargs=2, type=float, metavar=("IN", "OUT"),
                     help="USD per million prompt and completion tokens, for the cost line")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="embedded cluster size (default: one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run the executions on this Dask cluster")
    run.add_argument("--force", action="store_true", help="replace a run with other settings in --output")
    run.set_defaults(handler=run_command)

    compare = sub.add_parser("compare", help="paired difference of two runs on the same tasks, with a 95%% interval")
    compare.add_argument("run_a", type=Path, metavar="DIR_A")
    compare.add_argument("run_b", type=Path, metavar="DIR_B")
    compare.add_argument("--round", default="final", help="'final' or a round number (0 = before self-debug)")
    compare.add_argument("--output", type=Path, metavar="DIR", help="also write compare.json there")
    compare.set_defaults(handler=compare_command)


def _config(args: argparse.Namespace):
    from viscode.bench.runner import BenchConfig, JudgeSettings

    if args.endpoint:
        if not args.model_name:
            raise UsageError("--endpoint needs --model-name (the model's name at that endpoint)")
        if args.model:
            raise UsageError("give either --model (a local model) or --endpoint with --model-name, not both")
        model = args.model_name
    else:
        if not args.model:
            raise UsageError("give --model PATH_OR_NAME, or --endpoint URL with --model-name NAME")
        if args.model_name:
            raise UsageError("--model-name goes with --endpoint")
        model = args.model
    if bool(args.judge_endpoint) != bool(args.judge_model):
        raise UsageError("--judge-endpoint and --judge-model go together")
    for flag, value in (("--max-new-tokens", args.max_new_tokens), ("--batch-size", args.batch_size),
                        ("--concurrency", args.concurrency), ("--memory-mb", args.memory_mb)):
        if value < 1:
            raise UsageError(f"{flag} must be at least 1, got {value}")
    if args.timeout <= 0 or args.request_timeout <= 0:
        raise UsageError("--timeout and --request-timeout must be positive")
    judge = None
    if args.judge_endpoint:
        price_in, price_out = args.judge_price or (None, None)
        judge = JudgeSettings(args.judge_endpoint, args.judge_model, price_in, price_out)
    return BenchConfig(
        output=args.output, model=model, endpoint=args.endpoint, tasks=args.tasks,
        libraries=tuple(n.strip() for n in args.libraries.split(",") if n.strip()), self_debug=args.self_debug,
        limit=args.limit, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
        concurrency=args.concurrency, request_timeout_s=args.request_timeout, max_retries=args.max_retries,
        requests_per_minute=args.requests_per_minute, timeout_s=args.timeout,
        memory_mb=args.memory_mb, judge=judge, workers=args.workers, scheduler=args.scheduler, force=args.force,
        api_key=os.environ.get("OPENAI_API_KEY"))


def run_command(args: argparse.Namespace, console: Console) -> int:
    from viscode.bench.runner import run_bench
    from viscode.bench.scores import summary_table

    config = _config(args)
    progress = Progress(TextColumn("[bold]{task.description}[/]"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)
    bars: dict[str, int] = {}

    def on_progress(what: str, done: int, total: int) -> None:
        if what not in bars:
            progress.start()
            bars[what] = progress.add_task(what, total=total)
        progress.update(bars[what], completed=done, total=total)

    try:
        summary = run_bench(config, on_progress)
    finally:
        if bars:
            progress.stop()
    console.print(summary_table(summary))
    skipped = summary["tasks"]["skipped"]
    if skipped:
        console.print(f"{len(skipped)} task(s) skipped: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()),
                      markup=False)
    gen = summary["generation"]
    console.print(f"{summary['attempts']} attempts of {summary['tasks']['count']} tasks in {summary['wall_s']:.1f} s "
                  f"({gen['failed']} answers failed); results in {args.output}/ (attempts.jsonl, summary.json, "
                  f"report.md)", markup=False)
    return 0


def compare_command(args: argparse.Namespace, console: Console) -> int:
    from viscode.bench.compare import compare, compare_table

    from viscode.shards import write_json

    round_ = args.round
    if round_ != "final":
        try:
            round_ = int(round_)
        except ValueError:
            raise UsageError(f"--round must be 'final' or a round number, not {args.round!r}") from None
    result = compare(args.run_a, args.run_b, round=round_)
    console.print(compare_table(result))
    for note in result.get("notes", []):
        console.print(f"note: {note}", markup=False)
    if args.output:
        write_json(result, args.output / "compare.json")
        console.print(f"written: {args.output / 'compare.json'}", markup=False)
    return 0
