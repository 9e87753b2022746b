"""Where per-host caches live (font caches, LLM replies, tokenized training data):
VISCODE_CACHE_DIR, else $XDG_CACHE_HOME/viscode, else ~/.cache/viscode."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("VISCODE_CACHE_DIR"):
        return Path(os.environ["VISCODE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "viscode"
