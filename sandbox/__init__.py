"""Run untrusted plotting snippets in isolation (nsjail) and capture what they draw."""

from .limits import Limits
from .result import SCHEMA_VERSION, STATUSES, ExecutionResult, Image
from .sandbox import Sandbox, SandboxError

__all__ = ["SCHEMA_VERSION", "STATUSES", "ExecutionResult", "Image", "Limits", "Sandbox", "SandboxError"]
