"""The record a sandbox run produces: one ExecutionResult per snippet, versioned.

Every later stage (grid shards, curation filters, benchmark scores) reads these
fields by name, so the schema is explicit and carries a version number.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

Status = Literal["ok", "error", "timeout", "memory", "killed", "crashed", "sandbox_error"]
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "memory", "killed", "crashed", "sandbox_error")


@dataclass(slots=True)
class Image:
    """One captured picture: PNG bytes (or a path once written to --images-dir).

    `source` says where it came from: a matplotlib figure, a plotly figure or a file
    the snippet wrote. `artists` counts what a matplotlib figure drew (0 = empty axes);
    it is None where that cannot be known. For plotly, `spec` keeps the figure JSON
    and `render_error` says why no PNG could be made.
    """

    png: bytes | None
    width: int
    height: int
    source: Literal["matplotlib", "plotly", "file"]
    name: str = ""
    artists: int | None = None
    path: str | None = None
    spec: str | None = None
    render_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["png"] = base64.b64encode(self.png).decode("ascii") if self.png is not None else None
        return out


@dataclass(slots=True)
class ExecutionResult:
    """What happened when one snippet ran. `status` comes from facts observed outside
    the snippet (our timer, cgroup OOM counters, the signal), never from its exit code."""

    id: str
    status: Status
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_mb: float = 0.0
    images: list[Image] = field(default_factory=list)
    isolation: Literal["nsjail", "process"] = "nsjail"
    exit_code: int | None = None
    signal: int | None = None
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["images"] = [img.to_json() for img in self.images]
        return out
