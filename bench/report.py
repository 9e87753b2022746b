"""A run's human-readable report: `report.md` with the VisCoder paper's table layout, exec pass per
self-debug round with 95% intervals, a contact sheet of passed plots (`contact-sheet.png`), the
slowest attempts, the commonest errors and the usage.

Built only from the summary and attempts.jsonl, so it can be rewritten for any finished or
interrupted run. matplotlib and Pillow are imported inside the drawing functions, so importing
this module stays cheap; the Figure is drawn on an explicit Agg canvas, never pyplot's global state.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from viscode.bench.scores import Attempt, failure_kind, fmt_ci, fmt_mean, fmt_pass, fmt_share, group_items

from viscode.shards import write_bytes

REPORT_NAME = "report.md"
SHEET_NAME = "contact-sheet.png"
SHEET_ITEMS = 48
SHEET_COLUMNS = 8
THUMB_PX = 240
CAPTION_PX = 16
CELL_PAD = 8
SLOWEST = 10
TOP_ERRORS = 10
JUDGE_ASKED = frozenset({"scored", "no_score", "error"})  # judge states that cost a request


def write_report(out: Path, summary: dict, attempts: list[Attempt]) -> Path:
    """Write `out/report.md` and `out/contact-sheet.png` (both atomically) and return the report's
    path. `out` is the run's folder: attempts' `image_files` are relative to it. Without any
    readable image there is no contact sheet, and a stale one from an earlier report is removed."""
    out = Path(out)
    png = contact_sheet_png(sheet_entries(out, attempts))
    if png is None:
        (out / SHEET_NAME).unlink(missing_ok=True)
    else:
        write_bytes(png, out / SHEET_NAME)
    path = out / REPORT_NAME
    write_bytes(render_report(summary, attempts, has_sheet=png is not None).encode("utf-8"), path)
    return path


def render_report(summary: dict, attempts: list[Attempt], *, has_sheet: bool) -> str:
    """The report's Markdown text."""
    model = model_name(summary)
    sections = [
        [f"# PandasPlotBench: {model}", "", *_run_facts(summary)],
        ["## Results", "",
         "Exec Pass % · mean visual, task · good (score >= 75) visual %, task %, as in the VisCoder paper's table.",
         "", *paper_table(summary)],
        ["## Exec pass per round", "",
         "Share of items passed after each round (round 0: first answer), with its 95% Wilson interval.",
         "", *rounds_table(summary)],
        ["## Counts at the final round", "", *counts_table(summary)],
        ["## Contact sheet", "",
         f"![Passed plots: task · library · round]({SHEET_NAME})" if has_sheet
         else "No passed attempt has a readable image, so there is no contact sheet."],
        [f"## {SLOWEST} slowest attempts", "", *slowest_table(attempts)],
        ["## Most common errors", "", "Failed attempts of every round, by error type.", "", *errors_table(attempts)],
        ["## Usage", "", *usage_lines(summary, attempts)],
    ]
    return "\n\n".join("\n".join(lines).rstrip() for lines in sections) + "\n"


def model_name(summary: dict) -> str:
    model = summary.get("model")
    if isinstance(model, dict):
        model = model.get("name") or model.get("model")
    return str(model) if model else "model"


def _settings(summary: dict) -> dict:
    settings = summary.get("settings")
    return settings if isinstance(settings, dict) else {}


def _self_debug(summary: dict) -> int:
    """Self-debug rounds run: the runner's setting, else what the per-round lists show."""
    rounds = max((len(s["exec_pass"]) for s in summary["libraries"].values()), default=1)
    value = _settings(summary).get("self_debug")
    return value if isinstance(value, int) else rounds - 1


def _run_facts(summary: dict) -> list[str]:
    facts = [f"- libraries: {', '.join(summary['libraries']) or '-'}",
             f"- self-debug rounds: {_self_debug(summary)}"]
    tasks = summary.get("tasks")
    if isinstance(tasks, dict):
        skipped = tasks.get("skipped") or {}
        facts.append(f"- tasks: {tasks.get('count', '?')}" + (f" from {tasks['source']}" if tasks.get("source") else "")
                     + (f" ({len(skipped)} skipped)" if skipped else ""))
    elif tasks is not None:
        facts.append(f"- tasks: {tasks}")
    settings = _facts(_settings(summary))
    if settings:
        facts.append("- settings: " + "; ".join(settings))
    if isinstance(summary.get("wall_s"), int | float):
        facts.append(f"- wall time: {summary['wall_s']:,.0f} s")
    return facts


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Markdown table lines; pipes and line breaks in cells are escaped so a row stays one row."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    return ["| " + " | ".join(map(cell, header)) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(map(cell, row)) + " |" for row in rows)]


def paper_cell(s: dict, k: int) -> str:
    """One library after round k, as the paper prints it: "87.4 · 66, 78 · 60%, 80%"."""
    if not s["n"]:
        return "-"
    k = min(k, len(s["exec_pass"]) - 1)

    def at(key: str) -> float | None:
        values = s[key]
        return None if values is None else values[k]

    return (f"{fmt_pass(s['exec_pass'][k])} · {fmt_mean(at('visual_score_by_round'))}, "
            f"{fmt_mean(at('task_score_by_round'))} · {fmt_share(at('visual_good_share_by_round'))}, "
            f"{fmt_share(at('task_good_share_by_round'))}")


def paper_table(summary: dict) -> list[str]:
    """Rows MODEL (round 0) and MODEL + Self Debug (final round, only when self-debug ran)."""
    model = model_name(summary)
    libraries = summary["libraries"]
    rows = [(model, 0)]
    if _self_debug(summary) > 0:
        rows.append((f"{model} + Self Debug", _self_debug(summary)))
    return md_table(["Model", *(lib.capitalize() for lib in libraries)],
                    [[name, *(paper_cell(s, k) for s in libraries.values())] for name, k in rows])


def rounds_table(summary: dict) -> list[str]:
    libraries = summary["libraries"]
    rounds = max((len(s["exec_pass"]) for s in libraries.values()), default=1)
    return md_table(["Library", "Items", *(f"Round {k}" for k in range(rounds))],
                    [[lib, str(s["n"]), *(f"{fmt_pass(p)}% ({fmt_ci(ci)})"
                                          for p, ci in zip(s["exec_pass"], s["exec_pass_ci95"]))]
                     for lib, s in libraries.items()])


def counts_table(summary: dict) -> list[str]:
    def errors(s: dict) -> str:
        return ", ".join(f"{kind} {count}" for kind, count in s["errors"].items()) or "-"

    return md_table(["Library", "Items", "Failed", "Failures by type", "Judge unscored", "Wrong library",
                     "Generation failed"],
                    [[lib, str(s["n"]), str(s["n"] - s["passed"][-1]), errors(s), str(s["judge_unscored"]),
                      str(s["wrong_library"]), str(s["generation_failed"])]
                     for lib, s in summary["libraries"].items()])


def slowest_table(attempts: list[Attempt]) -> list[str]:
    slowest = sorted(attempts, key=lambda a: -(a.get("duration_s") or 0.0))[:SLOWEST]
    if not slowest:
        return ["No attempt."]
    return md_table(["Task", "Library", "Round", "Status", "Duration (s)"],
                    [[str(a["task_id"]), str(a["library"]), str(a["round"]), str(a.get("status")),
                      f"{a.get('duration_s') or 0.0:.2f}"] for a in slowest])


def errors_table(attempts: list[Attempt]) -> list[str]:
    """The TOP_ERRORS commonest failure kinds over all failed attempts, counted per library."""
    libraries = list(dict.fromkeys(str(a["library"]) for a in attempts))
    failed = [a for a in attempts if not a["passed"]]
    counts = Counter((failure_kind(a), str(a["library"])) for a in failed)
    totals = Counter(failure_kind(a) for a in failed)
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ERRORS]
    if not top:
        return ["No failed attempt."]
    return md_table(["Error", *libraries, "Total"],
                    [[kind, *(str(counts[kind, lib]) for lib in libraries), str(total)] for kind, total in top])


def usage_lines(summary: dict, attempts: list[Attempt]) -> list[str]:
    """What the attempts record (requests, tokens, seconds), then whatever the runner recorded
    under "generation" and "judge" (request counts, tokens, cost), read defensively."""
    judge_requests = sum(a.get(key) in JUDGE_ASKED for a in attempts for key in ("task_judge", "visual_judge"))
    lines = [
        (f"- generation: {len(attempts):,} attempts, "
         f"{sum(a.get('prompt_tokens') or 0 for a in attempts):,} prompt tokens, "
         f"{sum(a.get('completion_tokens') or 0 for a in attempts):,} completion tokens, "
         f"{sum(a.get('generation_s') or 0.0 for a in attempts):,.1f} s generating, "
         f"{sum(a.get('duration_s') or 0.0 for a in attempts):,.1f} s in the sandbox"),
        f"- judge: {judge_requests:,} requests (scored, unparsable or failed)",
    ]
    for section in ("generation", "judge"):
        facts = _facts(summary.get(section))
        if facts:
            lines.append(f"- {section} (runner's record): " + "; ".join(facts))
    return lines


def _facts(section: Any, prefix: str = "") -> list[str]:
    """A nested dict as "key: value" strings with readable numbers; anything else gives none."""
    if not isinstance(section, dict):
        return []
    facts = []
    for key, value in section.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            facts.extend(_facts(value, f"{name}."))
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            facts.append(f"{name}: {value}")
        elif isinstance(value, int):
            facts.append(f"{name}: {value:,}")
        elif isinstance(value, float):
            facts.append(f"{name}: {value:,.2f}" if abs(value) >= 1 else f"{name}: {value:.4g}")
        else:
            facts.append(f"{name}: {json.dumps(value, default=str)[:200]}")
    return facts


def _task_order(task_id: str) -> tuple[int, int, str]:
    """Numeric task ids in numeric order ("3" before "22"), others after them by text."""
    return (0, int(task_id), "") if task_id.isdigit() else (1, 0, task_id)


def sheet_entries(out: Path, attempts: list[Attempt]) -> list[tuple[str, Path]]:
    """(caption, first image) of up to SHEET_ITEMS items' final passed attempts whose image exists,
    by library then task id."""
    items = sorted(group_items(attempts).items(), key=lambda kv: (kv[0][1], _task_order(kv[0][0])))
    entries = []
    for (task_id, library), history in items:
        passed = [history[r] for r in sorted(history) if history[r]["passed"] and history[r].get("image_files")]
        if passed and (out / passed[-1]["image_files"][0]).is_file():
            entries.append((f"{task_id} · {library} · r{passed[-1]['round']}", out / passed[-1]["image_files"][0]))
            if len(entries) == SHEET_ITEMS:
                break
    return entries


def _thumbnail(path: Path):
    """The image shrunk to fit THUMB_PX, as RGB, or None when Pillow cannot read it (model-made
    files may be anything)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.thumbnail((THUMB_PX, THUMB_PX))
            return image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def contact_sheet_png(entries: list[tuple[str, Path]]) -> bytes | None:
    """A grid of captioned thumbnails as PNG bytes, pasted with Pillow (a tenth of the time a
    figure of 48 axes takes); None when no image is readable."""
    from PIL import Image, ImageDraw

    thumbs = [(caption, image) for caption, path in entries if (image := _thumbnail(path)) is not None]
    if not thumbs:
        return None
    columns = min(SHEET_COLUMNS, len(thumbs))
    rows = math.ceil(len(thumbs) / columns)
    cell_w, cell_h = THUMB_PX + CELL_PAD, THUMB_PX + CAPTION_PX + CELL_PAD
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (caption, image) in enumerate(thumbs):
        x, y = index % columns * cell_w, index // columns * cell_h
        draw.text((x + CELL_PAD // 2, y + 2), caption[:40], fill="black")
        sheet.paste(image, (x + (cell_w - image.width) // 2, y + CAPTION_PX + (THUMB_PX - image.height) // 2))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
