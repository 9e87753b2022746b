"""The data preview part of the instruction: the first rows of the program's inline data (literal DataFrames,
lists and dicts), laid out as small tables."""

from __future__ import annotations

import ast

from viscode.curation.data_description import references
from viscode.curation.phrasing import num

from viscode.codefacts import Program

PREVIEW_ROWS = 3
PREVIEW_COLUMNS = 6


def data_preview(prog: Program) -> str:
    """Inline data only: the first rows of literal DataFrames, then the literal lists and dicts."""
    blocks: list[str] = []
    shown: set[str] = set()
    lists: list[tuple[str, list]] = []
    for binding in prog.bindings:
        if binding.in_loop or not isinstance(binding.target, ast.Name):
            continue
        name, value = binding.target.id, binding.value
        call = prog.call_of(value)
        if call is not None and call.name == "pandas.DataFrame" and isinstance(call.arg(0), ast.Dict):
            table = _frame_table(prog, call.arg(0))  # type: ignore[arg-type]
            if table:
                blocks.append(f"{name}:\n{table}")
                shown.update(references(call.node))
            continue
        literal = prog.literal(value) if not isinstance(value, ast.Constant) else None
        if isinstance(literal, (list, tuple)) and len(literal) > 1:
            lists.append((name, list(literal)))
        elif isinstance(literal, dict) and literal:
            blocks.append(f"{name}:\n" + "\n".join(f"{k}: {_values(v)}" for k, v in list(literal.items())[:4]))
    lists = [(n, v) for n, v in lists if n not in shown]
    while lists:
        name, values = lists.pop(0)
        if all(isinstance(v, (list, tuple)) for v in values):
            blocks.append(f"{name}:\n" + "\n".join(_values(row) for row in values[:PREVIEW_ROWS - 1]))
            continue
        same = [(n, v) for n, v in lists if len(v) == len(values) and not isinstance(v[0], (list, tuple))]
        if not any(_numeric(v) for v in (values, *[v for _, v in same])):
            same = []  # lists of labels alone (rows and columns of a grid) are no table
        if same:
            lists = [item for item in lists if item not in same]
            blocks.append(_table([name, *[n for n, _ in same]], [values, *[v for _, v in same]]))
        else:
            blocks.append(f"{name}: {_values(values)}")
    return "\n".join(blocks[:4])


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _frame_table(prog: Program, data: ast.Dict) -> str:
    headers, columns = [], []
    for key, value in zip(data.keys, data.values):
        literal = prog.literal(value)
        if prog.string(key) and isinstance(literal, (list, tuple)) and literal:
            headers.append(prog.string(key) or "")
            columns.append(list(literal))
    return _table(headers, columns) if headers else ""


def _table(headers: list[str], columns: list[list]) -> str:
    headers, columns = headers[:PREVIEW_COLUMNS], columns[:PREVIEW_COLUMNS]
    rows = max(len(c) for c in columns)
    lines = [" | ".join(headers)]
    lines += [" | ".join(_cell(c[i]) if i < len(c) else "" for c in columns) for i in range(min(rows, PREVIEW_ROWS))]
    if rows > PREVIEW_ROWS:
        lines.append(f"... ({rows} rows)")
    return "\n".join(lines)


def _cell(value: object) -> str:
    text = num(value) if isinstance(value, float) else str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _values(values: object) -> str:
    if not isinstance(values, (list, tuple)):
        return _cell(values)
    shown = ", ".join(_cell(v) for v in values[:PREVIEW_ROWS])
    return f"{shown}, ... ({len(values)} values)" if len(values) > PREVIEW_ROWS else shown
