"""Run untrusted plotting snippets in isolation (nsjail) and capture what they draw.

`Sandbox` and `SandboxError` load on first use, so the jail's own processes (the supervisor
and the zygote) import only the modules they run, not the host side."""

from .limits import Limits
from .result import SCHEMA_VERSION, STATUSES, ExecutionResult, Image

__all__ = ["SCHEMA_VERSION", "STATUSES", "ExecutionResult", "Image", "Limits", "Sandbox", "SandboxError"]


def __getattr__(name: str):
    if name in ("Sandbox", "SandboxError"):
        from . import sandbox

        return getattr(sandbox, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
