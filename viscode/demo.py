"""`viscode demo`: the main job on its embedded default.

For now: the sandbox over the example snippets that ship with viscode (a mix of
matplotlib, seaborn, pandas and plotly plots, plus typical failures), printed as a
results table. Later stages grow this into the whole pipeline.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from viscode.sandbox import cli as sandbox_cli


def example_snippets() -> list[Path]:
    folder = resources.files("viscode.sandbox") / "examples"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".py"))


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the main job on the embedded example snippets")
    parser.add_argument("--mode", choices=("warm", "cold"), default="warm")
    parser.add_argument("--images-dir", type=Path, default=None, metavar="DIR")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, console) -> int:
    ns = argparse.Namespace(files=example_snippets(), json=False, mode=args.mode, timeout=10.0, memory_mb=1024,
                            images_dir=args.images_dir, data=[], isolation="auto")
    return sandbox_cli.exec_command(ns, console)
