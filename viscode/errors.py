"""Errors every stage's command line reports the same way."""


class UsageError(Exception):
    """A mistake in what the user asked for: reported in one line, exit 2."""
