"""Running one command the way every `viscode` command runs: exit 0 done, 2 for the user's input
or usage error (one line, no traceback), 3 when a needed service is unavailable, 1 for a bug
(the traceback is kept). Light on imports, so a stage's own entry point (`python -m
viscode.train`, as `accelerate launch` runs it) reports errors exactly as `viscode` does."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from viscode.errors import InputError


def run(args: argparse.Namespace, services: dict[type[BaseException], str] | None = None) -> int:
    """Call `args.handler`; `services` maps exception types to the words for "unavailable" (exit 3)."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=Console(stderr=True), show_path=False)])
    # under a launcher every process runs the command; one line from the first is enough
    err = Console(stderr=True, soft_wrap=True, quiet=int(os.environ.get("RANK", "0")) != 0)
    unavailable = tuple(services or ())
    try:
        return args.handler(args, Console(width=None if sys.stdout.isatty() else 140))
    except InputError as exc:  # ours alone: any other exception is a bug and keeps its traceback
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        return 2
    except unavailable as exc:
        words = next(w for t, w in services.items() if isinstance(exc, t))
        err.print(f"[bold red]{words}:[/] {escape(str(exc))}")
        return 3
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
