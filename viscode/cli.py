"""The `viscode` command: one subcommand per stage, plus `demo` (the main job)."""

from __future__ import annotations

import argparse
import logging
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from viscode import demo
from viscode.curation import cli as curation_cli
from viscode.curation.llm import LLMError
from viscode.errors import InputError
from viscode.grid import cli as grid_cli
from viscode.grid.cluster import ClusterUnavailable
from viscode.grid.job import GridError
from viscode.sandbox import cli as sandbox_cli
from viscode.sandbox.sandbox import SandboxError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="viscode", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(sub)
    sandbox_cli.add_parser(sub)
    grid_cli.add_harvest_parser(sub)
    grid_cli.add_parser(sub)
    curation_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=Console(stderr=True), show_path=False)])
    args = build_parser().parse_args(argv)
    err = Console(stderr=True, soft_wrap=True)
    try:
        return args.handler(args, Console(width=None if sys.stdout.isatty() else 140))
    except InputError as exc:  # ours alone: any other exception is a bug and keeps its traceback
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        return 2
    except (GridError, ClusterUnavailable) as exc:
        err.print(f"[bold red]grid stopped:[/] {escape(str(exc))}")
        return 3
    except LLMError as exc:
        err.print(f"[bold red]instruction endpoint unusable:[/] {escape(str(exc))}")
        return 3
    except SandboxError as exc:
        err.print(f"[bold red]sandbox unavailable:[/] {escape(str(exc))}")
        return 3
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
