"""Two benchmark runs compared item by item: are B's passes really more than A's, or noise?

Both runs answer the same tasks, so the test is paired: a bootstrap of the mean per-item
difference gives the interval and McNemar's exact test (on the items only one run passes)
the p-value. Pairing removes the task-difficulty variance that two independent pass rates carry.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from rich.table import Table
from viscode.bench.scores import History, Item, fmt_pass, group_items, passed_by, read_attempts

from viscode.errors import InputError

ALPHA = 0.05


def compare(dir_a: Path, dir_b: Path, *, round: str | int = "final", resamples: int = 10_000,
            seed: int = 0) -> dict:
    """Pass rates of the items both runs hold, per library, with a paired 95% bootstrap interval of
    B - A, McNemar's exact p and a verdict; `round` is "final" (each run's last round) or a round
    index. Notes say what makes the runs less comparable (other tasks, other self-debug depth)."""
    last_round = _round_index(round)
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    runs = [(Path(d), group_items(read_attempts(Path(d))), _read_summary(Path(d))) for d in (dir_a, dir_b)]
    (path_a, items_a, summary_a), (path_b, items_b, summary_b) = runs
    shared = [key for key in items_a if key in items_b]
    if not shared:
        raise InputError(f"{path_a} and {path_b}: no item (task_id, library) is in both runs")
    libraries = {}
    for library in dict.fromkeys(lib for _, lib in shared):
        keys = [key for key in shared if key[1] == library]
        libraries[library] = paired_difference([passed_by(items_a[k], last_round) for k in keys],
                                               [passed_by(items_b[k], last_round) for k in keys], resamples, seed)
    return {
        "a": str(path_a), "b": str(path_b),
        "model_a": _model(summary_a), "model_b": _model(summary_b),
        "round": "final" if last_round is None else last_round,
        "libraries": libraries,
        "notes": _notes(runs, last_round),
    }


def paired_difference(a: list[bool], b: list[bool], resamples: int, seed: int) -> dict:
    """Pass rates, B - A, its percentile bootstrap interval, McNemar's p and the verdict for
    paired outcomes (a[i] and b[i] are the same item)."""
    n = len(a)
    b_only = sum(y and not x for x, y in zip(a, b))
    a_only = sum(x and not y for x, y in zip(a, b))
    lo, hi = bootstrap_ci(b_only, a_only, n, resamples, seed)
    p = mcnemar_exact(b_only, a_only)
    if lo > 0 and p < ALPHA:
        verdict = "B better"
    elif hi < 0 and p < ALPHA:
        verdict = "A better"
    else:
        verdict = "no significant difference"
    return {"n": n, "pass_a": round(sum(a) / n, 4), "pass_b": round(sum(b) / n, 4),
            "difference": round((b_only - a_only) / n, 4), "ci95": [round(lo, 4), round(hi, 4)],
            "mcnemar_p": p, "b_only": b_only, "a_only": a_only, "verdict": verdict}


def bootstrap_ci(b_only: int, a_only: int, n: int, resamples: int, seed: int) -> tuple[float, float]:
    """Percentile 95% interval of the mean paired difference over items resampled with replacement.

    Each item's difference is +1 (B only), -1 (A only) or 0, so a resample is fully described by how
    many of each it drew: a multinomial draw, exactly the item bootstrap's distribution at O(resamples)."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, [b_only / n, a_only / n, (n - b_only - a_only) / n], size=resamples)
    lo, hi = np.percentile((counts[:, 0] - counts[:, 1]) / n, [2.5, 97.5])
    return float(lo), float(hi)


def mcnemar_exact(b_only: int, a_only: int) -> float:
    """Two-sided exact McNemar p: under "no difference" each discordant item is a fair coin, so the
    smaller side is binomial(b + c, 1/2); 1.0 when there is no discordant item."""
    n = b_only + a_only
    tail = sum(math.comb(n, i) for i in range(min(b_only, a_only) + 1))
    return min(1.0, 2 * tail / 2 ** n)


def _round_index(value: str | int) -> int | None:
    if value == "final":
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InputError(f"round must be 'final' or a round index >= 0, got {value!r}")


def _read_summary(folder: Path) -> dict | None:
    """summary.json, used for settings only: missing is fine (a note says so), corrupt is not."""
    path = folder / "summary.json"
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise InputError(f"{path}: not a JSON object")
    return summary


def _model(summary: dict | None) -> str | None:
    model = (summary or {}).get("model")
    if isinstance(model, dict):
        model = model.get("name") or model.get("model")
    return None if model is None else str(model)


def _settings(summary: dict | None) -> dict:
    settings = (summary or {}).get("settings")
    return settings if isinstance(settings, dict) else {}


def _notes(runs: list[tuple[Path, dict[Item, History], dict | None]], last_round: int | None) -> list[str]:
    """What a reader must know before trusting the comparison."""
    (path_a, items_a, summary_a), (path_b, items_b, summary_b) = runs
    notes = [f"{path}: no summary.json, settings not compared" for path, _, s in runs if s is None]
    settings_a, settings_b = _settings(summary_a), _settings(summary_b)
    if summary_a is not None and summary_b is not None:
        for key, what in (("tasks_digest", "task sets"), ("self_debug", "self-debug rounds")):
            if settings_a.get(key) != settings_b.get(key):
                notes.append(f"different {what}: A {settings_a.get(key)}, B {settings_b.get(key)}")
    for name, path, mine, other in (("A", path_a, items_a, items_b), ("B", path_b, items_b, items_a)):
        alone = sum(key not in other for key in mine)
        if alone:
            notes.append(f"{alone} items only in {name} ({path}), left out")
        rounds = max((r for history in mine.values() for r in history), default=0)
        if last_round is not None and last_round > rounds:
            notes.append(f"{name} has no attempt after round {rounds}: round {last_round} is its final state")
    return notes


def _p_text(p: float) -> str:
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def compare_table(result: dict) -> Table:
    """One row per library: both pass rates, B - A in percentage points with its 95% interval,
    McNemar's p, the discordant counts and the verdict; the notes as the caption."""
    def who(side: str) -> str:
        model = result[f"model_{side}"]
        return f"{side.upper()}: {model} ({result[side]})" if model else f"{side.upper()}: {result[side]}"

    table = Table(title=f"{who('a')}  vs  {who('b')}  (round: {result['round']})",
                  caption="\n".join(result["notes"]) or None)
    for column in ("library", "items", "A pass %", "B pass %", "B - A (pp)", "95% CI (pp)",
                   "McNemar p", "B only", "A only", "verdict"):
        table.add_column(column, justify="left" if column in ("library", "verdict") else "right")
    for library, r in result["libraries"].items():
        lo, hi = r["ci95"]
        table.add_row(library, str(r["n"]), fmt_pass(r["pass_a"]), fmt_pass(r["pass_b"]),
                      f"{100 * r['difference']:+.1f}", f"{100 * lo:+.1f} .. {100 * hi:+.1f}",
                      _p_text(r["mcnemar_p"]), str(r["b_only"]), str(r["a_only"]), r["verdict"])
    return table
