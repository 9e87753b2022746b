"""`viscode train init` (a model folder to start from) and `viscode train run` (SFT on curated shards).

`accelerate launch -m viscode.train run ...` runs the same command on every process; torch and
transformers are imported only when a subcommand runs, so `viscode --help` stays quick.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import fields
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from viscode.train.options import ATTENTIONS, LOSS_TURNS, PRECISIONS, REPORTERS
from viscode.train.sizes import SIZES

from viscode.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("train", help="fine-tune a code model on curated shards (accelerate SFT)")
    add_subcommands(parser.add_subparsers(dest="train_command", required=True))


def add_subcommands(sub) -> None:
    init = sub.add_parser("init", help="a Qwen2-architecture model from a config and a tokenizer trained on the data")
    init.add_argument("--output", required=True, type=Path, metavar="DIR")
    init.add_argument("--data", required=True, metavar="CURATED", help="curated output folder (or fsspec URL)")
    init.add_argument("--size", choices=SIZES, default="tiny")
    init.add_argument("--vocab-size", type=int, default=4096, metavar="N", help="tokenizer vocabulary (at most)")
    init.add_argument("--seed", type=int, default=0)
    init.set_defaults(handler=init_command)

    run = sub.add_parser("run", help="supervised fine-tuning; rerunning the same command resumes")
    run.add_argument("--model", required=True, metavar="M", help="model folder or hub name")
    run.add_argument("--data", required=True, metavar="CURATED", help="curated output folder (or fsspec URL)")
    run.add_argument("--output", required=True, type=Path, metavar="OUT")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=3, metavar="E")
    length.add_argument("--max-steps", type=int, metavar="N", help="optimizer steps (instead of --epochs)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--max-length", type=int, default=4096, metavar="L", help="longest conversation in tokens")
    run.add_argument("--batch-tokens", type=int, default=16384, metavar="T",
                     help="tokens per micro-batch and process (a packed row's length)")
    run.add_argument("--grad-accum", type=int, default=1, metavar="G", help="micro-batches per optimizer step")
    run.add_argument("--lr", type=float, default=5e-6)
    run.add_argument("--warmup", type=float, default=0.05, metavar="F", help="warm-up share of the steps")
    run.add_argument("--weight-decay", type=float, default=0.05)
    run.add_argument("--max-grad-norm", type=float, default=1.0)
    run.add_argument("--loss-turns", choices=LOSS_TURNS, default="all",
                     help="train every assistant turn of a dialogue (VisCoder) or the last one only")
    run.add_argument("--truncate", action="store_true",
                     help="cut rows longer than --max-length instead of dropping them")
    run.add_argument("--no-packing", dest="packing", action="store_false",
                     help="pad rows to the longest of their micro-batch instead of packing")
    run.add_argument("--precision", choices=PRECISIONS, default="auto",
                     help="auto: bf16 autocast over fp32 weights on GPUs, fp32 on CPU")
    run.add_argument("--attention", choices=ATTENTIONS,
                     default="auto", help="auto: the varlen flash kernel for packed rows on CUDA, else sdpa")
    run.add_argument("--gradient-checkpointing", action="store_true")
    run.add_argument("--kind", action="append", dest="kinds", metavar="KIND", help="single or repair (repeatable)")
    run.add_argument("--library", action="append", dest="libraries", metavar="LIB", help="repeatable")
    run.add_argument("--save-every", type=int, default=500, metavar="N", help="checkpoint every N optimizer steps")
    run.add_argument("--keep-last", type=int, default=2, metavar="K", help="checkpoints kept")
    run.add_argument("--eval-every", type=int, metavar="N", help="val loss every N steps (default: --save-every)")
    run.add_argument("--report-to", choices=REPORTERS, default="none")
    run.add_argument("--cache-dir", type=Path, metavar="DIR", help="tokenized-data cache (default ~/.cache/viscode/tokens)")
    run.set_defaults(handler=run_command)


def init_command(args: argparse.Namespace, console: Console) -> int:
    from viscode.train.model import init_model

    if args.vocab_size < 300:
        raise UsageError(f"--vocab-size {args.vocab_size}: at least 300 (256 bytes and the special tokens)")
    report = init_model(args.output, args.data, size=args.size, vocab_size=args.vocab_size, seed=args.seed)
    verb = "already there" if report.reused else "written"
    console.print(f"{args.size} model ({report.parameters:,} parameters, vocabulary {report.vocab_size}) "
                  f"{verb}: {report.output}", markup=False)
    return 0


def run_command(args: argparse.Namespace, console: Console) -> int:
    from viscode.train.loop import TrainConfig, Trainer

    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}  # the flags are the config's fields
    config = TrainConfig(**{**values, "kinds": tuple(args.kinds) if args.kinds else None,
                            "libraries": tuple(args.libraries) if args.libraries else None})
    progress = Progress(TextColumn("[bold]{task.description}[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[info]}"), TimeRemainingColumn(), console=console, transient=True)
    task, tokenizing = None, {}
    shown = int(os.environ.get("RANK", "0")) == 0  # one process speaks for all

    def on_event(kind: str, info: dict) -> None:
        nonlocal task
        if not shown:
            return
        if kind == "tokenize":
            if info["split"] not in tokenizing:
                progress.start()
                tokenizing[info["split"]] = progress.add_task(f"tokenize {info['split']}", total=info["total"],
                                                              info="")
            progress.advance(tokenizing[info["split"]], info["advance"])
        elif kind == "tokenized":
            if info["split"] in tokenizing:
                progress.remove_task(tokenizing[info["split"]])
            console.print(f"{info['split']}: {info['kept']} of {info['rows']} rows, {info['tokens']:,} tokens "
                          f"({info['label_tokens']:,} with loss); dropped: {info['too_long']} too long, "
                          f"{info['special_text']} with special-token text, {info['no_labels']} without an "
                          f"assistant turn; truncated {info['truncated']}"
                          f"{' (cached)' if info['cached'] else ''}", markup=False)
        elif kind == "start":
            resumed = f", resuming after step {info['resumed_from']}" if info["resumed_from"] else ""
            console.print(f"{info['steps']} steps ({info['steps_per_epoch']} an epoch) on {info['world']} "
                          f"process(es), {info['micro_batches']} micro-batches an epoch, "
                          f"{info['efficiency']:.1%} of token slots used, attention {info['attention']}{resumed}",
                          markup=False)
            progress.start()
            task = progress.add_task("train", total=info["steps"], completed=info["resumed_from"] or 0, info="")
        elif kind == "step" and task is not None:
            mfu = f"  mfu {info['mfu']:.1%}" if info.get("mfu") else ""
            val = f"  val {info['val_loss']:.4f}" if "val_loss" in info else ""
            progress.update(task, completed=info["step"],
                            info=f"loss {info['loss']:.4f}{val}  {info['tokens_per_s']:,.0f} tok/s{mfu}")

    trainer = Trainer(config, on_event=on_event)
    try:
        report = trainer.run()
    finally:
        progress.stop()
    if not trainer.acc.is_main_process:
        return 0
    val = f", val loss {report.val_loss:.4f}" if report.val_loss is not None else ""
    curve = [json.loads(line) for line in (report.output / "metrics.jsonl").read_text().splitlines()]
    losses = f"; loss {report.first_loss:.4f} -> {report.last_loss:.4f}{val}" if curve else ""
    console.print(f"{report.steps} steps, {report.tokens:,} tokens ({report.label_tokens:,} with loss) in "
                  f"{report.seconds:.1f} s{losses}", markup=False)
    picks = sorted({curve[round(i * (len(curve) - 1) / 5)]["step"] for i in range(6)}) if curve else []
    by_step = {r["step"]: r for r in curve}
    console.print("loss by step: " + ", ".join(f"{s}: {by_step[s]['loss']:.3f}" for s in picks), markup=False)
    console.print(f"final model: {report.final}   metrics: {report.output / 'metrics.jsonl'}", markup=False)
    return 0
