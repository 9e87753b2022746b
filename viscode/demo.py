"""`viscode demo`: the main job on its embedded default.

Synthesizes a few hundred candidate plotting programs (some deliberately faulty),
runs every one once through the grid on an embedded Dask cluster sized to this
machine, curates the results into training shards (with repair dialogues whose
faulty variants run on the same kind of cluster), shows the dataset card, then
builds a tiny Qwen2-architecture model with a tokenizer trained on those shards,
fine-tunes it on them for a minute or two, and benchmarks it on a handful of
PandasPlotBench tasks with one self-debug round.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown

from viscode.bench import cli as bench_cli
from viscode.curation import cli as curation_cli
from viscode.grid import cli as grid_cli
from viscode.grid.candidates import cli as candidates_cli
from viscode.train import cli as train_cli


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="synthesize candidates, run them on the embedded grid, curate them")
    parser.add_argument("--workdir", type=Path, default=Path("demo-output"), metavar="DIR",
                        help="where candidates/, grid/, curated/, model/, train/ and bench/ are written (replaced on every run)")
    parser.add_argument("--count", type=int, default=300, help="how many programs to synthesize")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, metavar="N")
    parser.add_argument("--train-steps", type=int, default=140, metavar="N", help="optimizer steps of the tiny model")
    parser.add_argument("--bench-tasks", type=int, default=5, metavar="N", help="PandasPlotBench tasks to score it on")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, console: Console) -> int:
    candidates, grid, curated = args.workdir / "candidates", args.workdir / "grid", args.workdir / "curated"
    shutil.rmtree(grid, ignore_errors=True)
    console.rule("1. synthesize candidates")
    candidates_cli.synth_command(argparse.Namespace(output=str(candidates), count=args.count, seed=args.seed,
                                                    fault_rate=0.15, force=True), console)
    console.rule("2. run them on the grid")
    status = grid_cli.run_command(argparse.Namespace(
        inputs=[str(candidates)], output=str(grid), workers=args.workers, scheduler=None, chunk_size=None,
        timeout=10.0, memory_mb=1024, mode="warm", max_code_kb=256, force=False), console)
    if status:
        return status
    console.rule("3. curate the results")
    parser = argparse.ArgumentParser()
    curation_cli.add_parser(parser.add_subparsers())
    options = ["curate", str(grid), "--output", str(curated), "--force"]
    if args.workers:
        options += ["--workers", str(args.workers)]
    status = curation_cli.curate_command(parser.parse_args(options), console)
    console.rule("4. the dataset card")
    card = (curated / "card.md").read_text().split("\n---\n", 1)[-1]  # without the YAML front matter
    console.print(Markdown(card.split("\n## Configuration", 1)[0]))
    console.print(f"the whole card: {curated / 'card.md'}", markup=False)
    if status:
        return status
    model, trained, bench = args.workdir / "model", args.workdir / "train", args.workdir / "bench"
    for folder in (model, trained, bench):
        shutil.rmtree(folder, ignore_errors=True)
    train_parser = argparse.ArgumentParser()
    train_cli.add_parser(train_parser.add_subparsers())
    console.rule("5. a tiny model and a tokenizer trained on the curated shards")
    status = train_cli.init_command(train_parser.parse_args(
        ["train", "init", "--output", str(model), "--data", str(curated), "--size", "tiny"]), console)
    if status:
        return status
    console.rule("6. fine-tune it on them")
    status = train_cli.run_command(train_parser.parse_args(
        ["train", "run", "--model", str(model), "--data", str(curated), "--output", str(trained),
         "--max-steps", str(args.train_steps), "--batch-tokens", "2048", "--max-length", "2048", "--lr", "3e-3",
         "--save-every", str(max(1, args.train_steps // 2)), "--eval-every", str(max(1, args.train_steps // 4)),
         "--seed", str(args.seed)]), console)
    if status:
        return status
    console.rule("7. benchmark it: PandasPlotBench tasks, one self-debug round")
    bench_parser = argparse.ArgumentParser()
    bench_cli.add_parser(bench_parser.add_subparsers())
    options = ["bench", "run", "--model", str(trained / "final"), "--output", str(bench), "--limit",
               str(args.bench_tasks), "--self-debug", "1", "--max-new-tokens", "128"]
    if args.workers:
        options += ["--workers", str(args.workers)]
    return bench_cli.run_command(bench_parser.parse_args(options), console)
