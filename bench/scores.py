"""Benchmark aggregates: exec pass after each self-debug round with Wilson intervals, judge scores
as PandasPlotBench computes them (a missing score counts as 0, "good" is a score of 75 or more),
and failure counts.

An item is one (task_id, library). Round 0 is the first answer; only items that failed every
earlier round get an attempt in round k, so an item's state after round k is its latest attempt
with round <= k (VisCoder's `calculate_self_debug_stats`). Plain Python over dicts: a run is a
few hundred items per library.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.table import Table

from viscode.errors import InputError
from viscode.jsonlines import json_object

Z95 = 1.959963984540054
GOOD_SCORE = 75  # PandasPlotBench's "good" threshold
UNSCORED = frozenset({"no_score", "error"})
REQUIRED_KEYS = ("task_id", "library", "round", "passed")

Attempt = dict[str, Any]
Item = tuple[str, str]  # (task_id, library)
History = dict[int, Attempt]  # one item's attempts by round


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a pass rate: unlike the normal approximation it stays inside [0, 1]
    and is honest at 0/n and n/n, which small runs and easy libraries hit."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..n, got {successes}/{n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def read_attempts(folder: Path) -> list[Attempt]:
    """`folder/attempts.jsonl` as dicts; a missing file, a line that is not a JSON object or one
    without the keys every aggregate needs is the user's input problem, named in one line."""
    path = Path(folder) / "attempts.jsonl"
    if not path.is_file():
        raise InputError(f"{folder}: no attempts.jsonl (not a benchmark output folder?)")
    rows = []
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    rows.append(_attempt_row(path, number, line))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return rows


def _attempt_row(path: Path, number: int, line: str) -> Attempt:
    row = json_object(line, f"{path}:{number}")
    missing = [key for key in REQUIRED_KEYS if key not in row]
    if missing:
        raise InputError(f"{path}:{number}: no {', '.join(missing)}")
    return row


def group_items(attempts: Iterable[Attempt]) -> dict[Item, History]:
    """Each item's attempts by round, items in first-seen order. A later line for the same item and
    round replaces the earlier one: a resumed run appends its redo."""
    items: dict[Item, History] = {}
    for attempt in attempts:
        items.setdefault((str(attempt["task_id"]), str(attempt["library"])), {})[int(attempt["round"])] = attempt
    return items


def latest(history: History, last_round: int) -> Attempt | None:
    """The attempt that stands for the item after `last_round`: its latest one up to that round."""
    rounds = [r for r in history if r <= last_round]
    return history[max(rounds)] if rounds else None


def passed_by(history: History, last_round: int | None = None) -> bool:
    """Whether any attempt up to `last_round` (None: any round) passed; once passed, an item stays passed."""
    return any(a["passed"] for r, a in history.items() if last_round is None or r <= last_round)


def failure_kind(attempt: Attempt) -> str:
    """What a failed attempt is counted as: its exception type; a clean run without an image is
    "NoImage" (VisCoder's "Unexpected Error"); otherwise the sandbox status (timeout, memory, ...)."""
    if attempt.get("error_type"):
        return str(attempt["error_type"])
    status = attempt.get("status") or "unknown"
    return "NoImage" if status == "ok" else str(status)


def summarize(attempts: list[Attempt], libraries: list[str], rounds: int) -> dict:
    """Per library, in the given order: exec pass, judge scores and failure counts after each of
    `rounds` rounds (self_debug + 1). Attempts of other libraries, or of rounds >= `rounds`, are left out."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    items = group_items(attempts)
    return {"libraries": {
        library: _library_summary(
            [h for (_, lib), h in items.items() if lib == library and 0 in h],
            [a for a in attempts if a["library"] == library and int(a["round"]) < rounds],
            rounds)
        for library in libraries}}


def _library_summary(histories: list[History], attempts: list[Attempt], rounds: int) -> dict:
    n = len(histories)
    last = rounds - 1
    passed = [sum(passed_by(h, k) for h in histories) for k in range(rounds)]
    final = [latest(h, last) for h in histories]
    errors = Counter(failure_kind(a) for h, a in zip(histories, final) if not passed_by(h, last))
    return {
        "n": n,
        "passed": passed,
        "exec_pass": [_fraction(count, n) for count in passed],
        "exec_pass_ci95": [[round(x, 4) for x in wilson(count, n)] for count in passed],
        **_score_fields("task", histories, attempts, rounds),
        **_score_fields("visual", histories, attempts, rounds),
        "judge_unscored": sum(a.get("task_judge") in UNSCORED or a.get("visual_judge") in UNSCORED for a in final),
        "wrong_library": sum("wrong_library" in (a.get("task_judge"), a.get("visual_judge")) for a in final),
        "errors": dict(sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))),
        "generation_failed": sum(a.get("generation_error") is not None for a in attempts),
    }


def _score_fields(kind: str, histories: list[History], attempts: list[Attempt], rounds: int) -> dict:
    """Mean and good share per round of one judge's scores; all null when that judge never ran for
    the library (none configured, or no ground truth for the visual judge)."""
    if all(a.get(f"{kind}_judge") is None for a in attempts):
        return {f"{kind}_score_mean": None, f"{kind}_good_share": None,
                f"{kind}_score_by_round": None, f"{kind}_good_share_by_round": None}
    if kind == "visual":  # a task without a ground-truth image has no visual score at all
        histories = [h for h in histories if any(a.get("visual_judge") is not None for a in h.values())]
    by_round = [[_score(latest(h, k), kind) for h in histories] for k in range(rounds)]
    means = [round(sum(s) / len(s), 2) if s else 0.0 for s in by_round]
    good = [_fraction(sum(x >= GOOD_SCORE for x in s), len(s)) for s in by_round]
    return {f"{kind}_score_mean": means[-1], f"{kind}_good_share": good[-1],
            f"{kind}_score_by_round": means, f"{kind}_good_share_by_round": good}


def _score(attempt: Attempt | None, kind: str) -> int:
    """A judge score as the benchmark aggregates it: a missing one (no_score, error) is 0 (fillna(0))."""
    value = attempt.get(f"{kind}_score") if attempt else None
    return int(value) if value is not None else 0


def _fraction(count: int, n: int) -> float:
    return round(count / n, 4) if n else 0.0


def fmt_pass(fraction: float) -> str:
    """A pass rate as the paper prints it: percent with one decimal."""
    return f"{100 * fraction:.1f}"


def fmt_mean(mean: float | None) -> str:
    """A mean score as the benchmark reports it: truncated to an int (`int(np.mean)`); "-" when no judge."""
    return "-" if mean is None else str(int(mean))


def fmt_share(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"


def fmt_ci(ci: list[float]) -> str:
    return f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}"


def summary_table(summary: dict) -> Table:
    """One row per library: exec pass from round 0 to the final round, the final round's 95% CI,
    and the final judge scores (mean · good share)."""
    table = Table(title="PandasPlotBench")
    for column in ("library", "items", "exec pass % (round 0 -> final)", "95% CI (final)",
                   "task mean · good", "visual mean · good"):
        table.add_column(column, justify="left" if column == "library" else "right")
    for library, s in summary["libraries"].items():
        table.add_row(
            library, str(s["n"]),
            " -> ".join(fmt_pass(p) for p in s["exec_pass"]),
            fmt_ci(s["exec_pass_ci95"][-1]),
            f"{fmt_mean(s['task_score_mean'])} · {fmt_share(s['task_good_share'])}",
            f"{fmt_mean(s['visual_score_mean'])} · {fmt_share(s['visual_good_share'])}",
        )
    return table
