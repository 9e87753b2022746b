"""Errors every stage's command line reports the same way.

Library code raises InputError for anything the user gave that cannot be used as given
(a file, a folder, a setting); commands report it in one line and exit 2. Every other
exception is a bug and keeps its traceback (exit 1), even a ValueError from a library
we call: a corrupt file is caught where it is read and named there as an InputError.
"""


class InputError(ValueError):
    """What the user gave cannot be used as given; the message names it and says what is
    wrong, in one line. A ValueError, so API callers may catch either."""


class UsageError(InputError):
    """A command-line mistake that a command finds itself (a flag's value, a missing path)."""


def first_line(exc: BaseException) -> str:
    """An exception as one line for a one-line error: its first line, else its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
