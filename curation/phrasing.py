"""Small wording helpers shared by the parts of the rule-based instruction (curation.instructions)."""

from __future__ import annotations

from collections.abc import Iterable


def join(items: Iterable[str]) -> str:
    unique = list(dict.fromkeys(i for i in items if i))
    return " and ".join(unique) if len(unique) < 3 else ", ".join(unique[:-1]) + " and " + unique[-1]


def num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def quote(text: str) -> str:
    return f'"{" ".join(text.split())}"'


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
