"""One JSON Lines record, checked the same way wherever users hand us JSONL (grid inputs,
benchmark tasks, benchmark attempts): a line that is not a JSON object is their input error,
named by file and line."""

from __future__ import annotations

import json

from viscode.errors import InputError, first_line


def json_object(line: str | bytes, where: str) -> dict:
    """The object on `line`; `where` names it in the error ("file:line")."""
    try:
        record = json.loads(line)
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise InputError(f"{where}: not valid JSON ({first_line(exc)})") from None
    if not isinstance(record, dict):
        raise InputError(f"{where}: not a JSON object")
    return record
