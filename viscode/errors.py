"""Errors every stage's command line reports the same way."""


class UsageError(Exception):
    """A mistake in what the user asked for: reported in one line, exit 2."""


def first_line(exc: BaseException) -> str:
    """An exception as one line for a one-line error: its first line, else its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
