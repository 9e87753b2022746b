"""`viscode sandbox ...`: run snippet files in one sandbox; prepare a host for it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from viscode.cache import cache_root
from viscode.errors import UsageError
from viscode.shards import write_bytes

from .result import STATUSES, ExecutionResult
from .sandbox import Sandbox, SandboxError, ensure_font_cache, nsjail_problem


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("sandbox", help="run untrusted plotting snippets in isolation")
    sub = parser.add_subparsers(dest="sandbox_command", required=True)
    ex = sub.add_parser("exec", help="run snippet files in one sandbox")
    ex.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ex.add_argument("--json", action="store_true", help="one JSON result per file, one per line, in input order")
    ex.add_argument("--mode", choices=("warm", "cold"), default="warm")
    ex.add_argument("--timeout", type=float, default=10.0, metavar="S", help="wall-clock seconds per snippet")
    ex.add_argument("--memory-mb", type=int, default=1024, metavar="M")
    ex.add_argument("--images-dir", type=Path, metavar="DIR", help="write PNGs here instead of inlining them")
    ex.add_argument("--data", type=Path, action="append", default=[], metavar="FILE",
                    help="data file placed in every snippet's working dir (repeatable)")
    ex.add_argument("--isolation", choices=("auto", "nsjail", "process"), default="auto")
    ex.add_argument("--no-plotly-render", dest="render_plotly", action="store_false",
                    help="keep plotly figures as JSON only (no Chrome needed)")
    ex.set_defaults(handler=exec_command)
    prep = sub.add_parser("prepare", help="check nsjail and pre-build the font caches (idempotent)")
    prep.set_defaults(handler=prepare_command)


def _read_inputs(files: list[Path], data: list[Path]) -> tuple[list[tuple[str, bytes]], dict[str, bytes]]:
    """Read everything up front, so a bad path fails before any snippet runs."""
    snippets = []
    for path in files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        snippets.append((path.stem, path.read_bytes()))
    payload = {}
    for path in data:
        if not path.is_file():
            raise UsageError(f"--data {path}: no such file")
        payload[path.name] = path.read_bytes()
    return snippets, payload


def _write_png(directory: Path, name: str, png: bytes) -> Path:
    """Atomic: a crash never leaves a half-written image under the final name."""
    write_bytes(png, directory / name)
    return directory / name


def _result_json(result: ExecutionResult, images_dir: Path | None) -> dict:
    out = result.to_json()
    if images_dir is not None:
        for n, (img, entry) in enumerate(zip(result.images, out["images"])):
            if img.png is not None:
                entry["path"] = str(_write_png(images_dir, f"{result.id}-{n}.png", img.png))
            entry["png"] = None
    return out


def exec_command(args: argparse.Namespace, console: Console) -> int:
    snippets, data = _read_inputs(args.files, args.data)
    if args.timeout <= 0 or args.memory_mb <= 0:
        raise UsageError("--timeout and --memory-mb must be positive")
    if args.images_dir is not None:
        args.images_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    err = Console(stderr=True)
    start = time.monotonic()
    rows = []
    with Sandbox(args.mode, timeout_s=args.timeout, memory_mb=args.memory_mb, isolation=args.isolation,
                 render_plotly=args.render_plotly) as sb:
        if sb.isolation == "process":
            err.print("[bold red]WARNING:[/] nsjail unavailable, snippets run as plain processes (weaker isolation)")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("snippets", total=len(snippets))
            for snippet_id, code in snippets:
                result = sb.run(code, snippet_id=snippet_id, files=data)
                counts[result.status] += 1
                record = _result_json(result, args.images_dir)  # writes the PNGs under --images-dir
                if args.json:
                    sys.stdout.write(json.dumps(record) + "\n")
                    sys.stdout.flush()
                else:
                    rows.append(result)
                progress.advance(task)
        isolation = sb.isolation
        startup = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in sb.startup.items()) or "none"
    elapsed = time.monotonic() - start
    if not args.json:
        console.print(snippet_table(rows))
    summary = ", ".join(f"{s}={counts[s]}" for s in STATUSES if counts[s])
    where = f"; images in {args.images_dir}" if args.images_dir else ""
    err.print(f"{len(snippets)} snippets in {elapsed:.2f} s ({len(snippets) / elapsed:.1f}/s, "
              f"{args.mode}, {isolation}; start-up {startup}): {summary}{where}")
    return 3 if counts["sandbox_error"] else 0  # the infrastructure failed, not the snippets


def snippet_table(results: list[ExecutionResult]) -> Table:
    """What `sandbox exec` shows without --json: one row per snippet, for the terminal."""
    table = Table(title="sandbox results")
    table.add_column("id", no_wrap=True, overflow="fold")
    for col in ("status", "error", "images", "duration", "cpu", "peak MB"):
        table.add_column(col, no_wrap=col != "images", min_width=24 if col == "images" else None)
    style = {"ok": "green", "error": "yellow", "sandbox_error": "bold red"}
    for r in results:
        images = ", ".join(f"{i.source} {i.width}x{i.height}" + (f" {i.artists}a" if i.artists is not None else "")
                           + (" render failed" if i.render_error else "") for i in r.images) or "-"
        table.add_row(r.id, f"[{style.get(r.status, 'red')}]{r.status}[/]", (r.error_type or "-")[:40], images,
                      f"{r.duration_s:.3f}s", f"{r.cpu_s:.3f}s", f"{r.peak_memory_mb:.0f}")
    return table


def prepare_command(args: argparse.Namespace, console: Console) -> int:
    """Build the font caches this host can use; when nsjail cannot run, the process fallback's
    cache is still built, then the command stops as every command does without its sandbox (exit 3)."""
    problem = nsjail_problem()
    if not problem:
        console.print(f"nsjail: ok; font cache {ensure_font_cache('nsjail')}")
    console.print(f"process fallback: font cache {ensure_font_cache('process')} (cache root {cache_root()})")
    if problem:
        raise SandboxError(f"this host cannot run the sandbox: {problem} (run scripts/setup.sh)")
    return 0
