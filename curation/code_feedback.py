"""Multi-turn correction dialogues from Code-Feedback (m-a-p/Code-Feedback's JSONL layout), kept to Python.

VisCoder mixed 45K of these generic dialogues into its data, left after dropping those "with
excessive length or turn count" from a Python subset of about 56K; the thresholds were never
published, so they are parameters here, and every dropped line is counted under its reason so
a run can report what its thresholds cost.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from viscode.errors import InputError

REASONS = ("kept", "invalid_json", "bad_roles", "too_few_turns", "too_many_turns", "too_long", "not_python",
           "no_code")
PYTHON_LABELS = frozenset({"python", "py", "python3", "py3", "ipython", "ipython3"})
# Labels that say nothing about the dialogue's language: program output, shell steps, data.
NEUTRAL_LABELS = frozenset({"", "text", "txt", "plaintext", "plain", "output", "console", "shell", "bash", "sh",
                            "json", "csv", "yaml", "log", "pycon"})
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")


@dataclass(frozen=True, slots=True)
class FeedbackFilter:
    """Which dialogues to keep. Turns are the messages after an optional system message; characters
    are summed over all messages.

    The paper dropped dialogues "with excessive length or turn count" without giving thresholds:
    10 turns and 16,000 characters keep the usual request / code / feedback / fix exchanges while
    dropping the long tail that would dominate sequence length in training; 3 turns is the least
    that holds feedback at all (a request, an answer, a reaction); as a kept dialogue must end on
    the assistant's answer, that means at least 4 in practice.
    """
    max_turns: int = 10
    max_chars: int = 16000
    min_turns: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.min_turns <= self.max_turns or self.max_chars < 1:
            raise InputError(f"need 1 <= min_turns <= max_turns and max_chars >= 1, got {self}")


def read_code_feedback(path: Path, flt: FeedbackFilter) -> tuple[list[dict], dict[str, int]]:
    """Kept dialogues of a Code-Feedback JSONL file, and how many lines went under each reason.

    Each kept record is {"id", "messages", "code", "source"}: "id" is the dialogue's own id (a
    string, or None), "messages" only the role/content pairs, "code" the last Python block of the
    last assistant turn, "source" names the file and line. The file is read line by line; lines
    that are not JSON objects are counted, not fatal. A missing file, or one without a single JSON
    object line, raises ValueError.
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    counts = Counter({reason: 0 for reason in REASONS})
    kept = []
    with path.open("rb") as lines:
        for line_no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                obj = None
            if not isinstance(obj, dict):
                counts["invalid_json"] += 1
                continue
            reason, code = _judge(obj.get("messages"), flt)
            counts[reason] += 1
            if reason == "kept":
                kept.append({"id": None if obj.get("id") is None else str(obj["id"]),
                             "messages": [{"role": m["role"], "content": m["content"]} for m in obj["messages"]],
                             "code": code, "source": f"code-feedback:{path.name}:{line_no}"})
    if counts["invalid_json"] == counts.total():
        raise InputError(f"{path}: no valid JSON object lines ({counts['invalid_json']} invalid)")
    return kept, dict(counts)


def _judge(raw: object, flt: FeedbackFilter) -> tuple[str, str]:
    """The reason a dialogue is dropped, or "kept" with its code."""
    messages = _dialogue(raw)
    if messages is None:
        return "bad_roles", ""
    turns = len(messages) - (messages[0]["role"] == "system")
    if turns < flt.min_turns:
        return "too_few_turns", ""
    if turns > flt.max_turns:
        return "too_many_turns", ""
    if sum(len(m["content"]) for m in messages) > flt.max_chars:
        return "too_long", ""
    blocks = [block for m in messages for block in _fenced_blocks(m["content"])]
    if any(label not in PYTHON_LABELS | NEUTRAL_LABELS for label, _ in blocks) \
            or not any(_is_python(label, body) for label, body in blocks):
        return "not_python", ""
    code = [body for label, body in _fenced_blocks(messages[-1]["content"]) if _is_python(label, body)]
    return ("kept", code[-1]) if code else ("no_code", "")


def _dialogue(raw: object) -> list[dict[str, str]] | None:
    """`raw` if it is a list of {"role", "content"} strings: an optional system message, then user and
    assistant alternating, starting with the user and ending with the assistant (whose code is the answer)."""
    if not isinstance(raw, list) or not raw or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in raw):
        return None
    roles = [m["role"] for m in raw]
    roles = roles[1:] if roles[0] == "system" else roles
    alternate = all(role == ("user" if i % 2 == 0 else "assistant") for i, role in enumerate(roles))
    return raw if roles and alternate and len(roles) % 2 == 0 else None


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(label, body) of each fenced code block in markdown `text`, labels lower-cased ("" for none).

    A fence closes on a line of only its own character, at least as long as the opening one; a
    block left open runs to the end of the text (a reply cut off mid-code is still code).
    """
    blocks = []
    fence, label, body = "", "", []
    for line in text.split("\n"):
        if not fence:
            match = _FENCE.match(line)
            if match:
                fence, label, body = match.group(1), match.group(2).strip("{}.").lower(), []
            continue
        closing = line.strip()
        if closing and set(closing) == {fence[0]} and len(closing) >= len(fence):
            blocks.append((label, "\n".join(body)))
            fence = ""
        else:
            body.append(line)
    if fence:
        blocks.append((label, "\n".join(body)))
    return blocks


def _is_python(label: str, body: str) -> bool:
    """Labelled Python, or unlabelled text that parses as Python and does something: program output
    such as `[1, 2, 3]` or `42` parses too, so a lone literal or name does not count."""
    if label in PYTHON_LABELS:
        return True
    if label:
        return False
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(node, ast.Call) or isinstance(node, ast.stmt) and not isinstance(node, ast.Expr)
               for node in ast.walk(tree))
