"""The self-debug conversation wording, shared by the curated repair dialogues and the benchmark.

A model learns repair from the exact turns it will see when evaluated, so the wording here is
VisCoder's (PandasPlotBench `debug_utils.py`) character for character: changing it changes what
the fine-tuned model was trained to answer.
"""

from __future__ import annotations

_FEEDBACK = ("The above code {verb} with the following error:\n{error}\n"
             "Please provide a corrected version enclosed in ```python ... ```.")
_MARKER = "... [{count} lines trimmed] ..."
_MARKER_RESERVE = 48  # room kept for the marker line and its newlines
MIN_LIMIT = 200


def code_block(code: str) -> str:
    """An assistant turn as VisCoder writes it: the code in one python fence (blank lines
    around it dropped, so the fence hugs the code)."""
    return f"```python\n{code.strip(chr(10))}\n```"


def feedback_message(error: str, *, again: bool = False) -> str:
    """The user turn reporting a failure; `again` gives the wording of every round after the first."""
    return _FEEDBACK.format(verb="still failed" if again else "failed", error=error)


def trim_traceback(text: str, limit: int = 4000) -> str:
    """`text` cut to at most `limit` characters, whole lines from the head and the tail with a marker
    line between them.

    Tracebacks grow with recursion and long reprs but hold the exception in their last lines, so
    the tail gets two thirds of the room; the head keeps the first frames, which locate the failing
    call. Where the last line alone is too long, its start (exception type and message) is kept and
    "…" ends it.
    The same text always gives the same result, so prompts and training rows are reproducible.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT} characters, got {limit}")
    if len(text) <= limit:
        return text
    lines = text.rstrip("\n").split("\n")
    tail_room = (limit - _MARKER_RESERVE) * 2 // 3
    head_room = limit - _MARKER_RESERVE - tail_room
    last = lines[-1] if len(lines[-1]) <= tail_room else lines[-1][:tail_room - 1] + "…"
    tail = [last]
    used = len(last)
    for line in reversed(lines[:-1]):
        if used + len(line) + 1 > tail_room:
            break
        tail.append(line)
        used += len(line) + 1
    tail.reverse()
    head: list[str] = []
    used = 0
    for line in lines[:len(lines) - len(tail)]:
        if used + len(line) + 1 > head_room:
            break
        head.append(line)
        used += len(line) + 1
    dropped = len(lines) - len(head) - len(tail)
    return "\n".join([*head, *([_MARKER.format(count=dropped)] if dropped else []), *tail])
