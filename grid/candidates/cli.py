"""`viscode candidates harvest|synth`: candidate shards in, from real code or from the generator."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from viscode.errors import UsageError

from .harvest import harvest
from .synth import write_synth


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("candidates",
                                   help="candidate shards for the grid: harvested real code or generated programs")
    sub = parser.add_subparsers(dest="candidates_command", required=True)
    real = sub.add_parser("harvest", help="real code in, candidate shards out",
                          description="viscode candidates harvest SRC... --output DIR")
    real.add_argument("sources", nargs="+", metavar="SRC",
                      help=".py files, folders, tar/zip archives, notebooks, Parquet/JSONL dumps")
    real.add_argument("--output", required=True, metavar="DIR")
    real.add_argument("--text-column", default="content", help="code column of Parquet/JSONL sources")
    real.add_argument("--max-code-kb", type=int, default=1024, metavar="KB",
                      help="larger code is skipped (a file, a record, a notebook's code cells)")
    real.add_argument("--force", action="store_true", help="replace shards already in DIR")
    real.set_defaults(handler=harvest_command)
    made = sub.add_parser("synth", help="generated plotting programs, some deliberately faulty, as candidate shards",
                          description="viscode candidates synth --count N --seed S --output DIR")
    made.add_argument("--count", type=int, metavar="N", help="how many programs")
    made.add_argument("--seed", type=int, default=0, metavar="S", help="the seed (same seed, same programs)")
    made.add_argument("--output", required=True, metavar="DIR")
    made.add_argument("--fault-rate", type=float, default=0.15, metavar="F", help="share of deliberately faulty programs")
    made.add_argument("--force", action="store_true", help="replace shards already in DIR")
    made.set_defaults(handler=synth_command)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


def harvest_command(args: argparse.Namespace, console: Console) -> int:
    if args.max_code_kb <= 0:
        raise UsageError(f"--max-code-kb must be positive, got {args.max_code_kb}")
    output = Path(args.output)
    with _progress() as progress:
        task = progress.add_task("harvesting", total=None)
        manifest = harvest(args.sources, output, text_column=args.text_column, max_bytes=args.max_code_kb * 1024,
                           force=args.force,
                           on_progress=lambda _, done, total: progress.update(task, completed=done, total=total))
    counts = manifest["counts"]
    skipped = ", ".join(f"{k}={v:,}" for k, v in counts.items() if v and k not in ("kept", "seen"))
    console.print(f"{counts['seen']:,} files/records seen, {counts['kept']:,} candidates kept in "
                  f"{manifest['seconds']:.1f} s; skipped: {skipped or 'none'}")
    _print_shards(manifest, output, console)
    return 0


def synth_command(args: argparse.Namespace, console: Console) -> int:
    if args.count is None:
        raise UsageError("candidates synth needs --count N")
    output = Path(args.output)
    with _progress() as progress:
        task = progress.add_task("synthesizing", total=args.count)
        manifest = write_synth(output, args.count, args.seed, fault_rate=args.fault_rate, force=args.force,
                               on_progress=lambda _, done, total: progress.update(task, completed=done))
    counts = manifest["counts"]
    console.print(f"{manifest['rows']:,} programs ({counts.get('faulty', 0):,} deliberately faulty, "
                  f"{counts.get('duplicate', 0)} duplicates dropped) in {manifest['seconds']:.1f} s "
                  f"({manifest['rows'] / max(manifest['seconds'], 1e-9):,.0f}/s)")
    _print_shards(manifest, output, console)
    return 0


def _print_shards(manifest: dict, output: Path, console: Console) -> None:
    """What both sources end with: the libraries the candidates use and where their shards are."""
    libraries = ", ".join(f"{k}={v:,}" for k, v in manifest["libraries"].items())
    console.print(f"libraries: {libraries or '-'}")
    console.print(f"{len(manifest['shards'])} shard(s) and manifest.json in {output}", markup=False)
