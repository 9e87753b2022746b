"""The snippet's own process: drop privileges, set limits, run the code, report.

Runs in a child forked by the supervisor. Everything here happens before the
snippet's first line, so every limit is in force when untrusted code starts.
What it reports is untrusted data to the supervisor and the host.
"""

from __future__ import annotations

import builtins
import fcntl
import linecache
import os
import random
import resource
import signal
import stat
import sys
import tempfile
import traceback
from dataclasses import dataclass

from . import capture
from .import_hooks import when_imported
from .limits import Limits
from .privileges import drop_privileges
from .protocol import read_message, write_message

SNIPPET_FILENAME = "snippet.py"
MAX_CODE_BYTES = 64 * 1024 * 1024
MAX_PENDING_SIGNALS = 64


@dataclass(frozen=True, slots=True)
class ChildSpec:
    limits: Limits
    uid: int | None  # drop to this uid (and gid) before running; None = stay
    data_limit_bytes: int | None  # RLIMIT_DATA where no memory cgroup exists
    own_ipc: bool = False  # a fresh IPC namespace of its own (in a jail)
    oom_score_adj: str = "/proc/self/oom_score_adj"  # where our own score is writable


def _set_limits(spec: ChildSpec) -> None:
    lim = spec.limits
    cpu = max(1, int(lim.cpu_s + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim.max_file_bytes, lim.max_file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim.max_open_files, lim.max_open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (lim.max_procs, lim.max_procs))
    # Per-user pools the jail shares with host root (its user namespace is root's): no
    # POSIX message queues, a few queued signals.
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
    resource.setrlimit(resource.RLIMIT_SIGPENDING, (MAX_PENDING_SIGNALS, MAX_PENDING_SIGNALS))
    if spec.data_limit_bytes:
        resource.setrlimit(resource.RLIMIT_DATA, (spec.data_limit_bytes, spec.data_limit_bytes))


def _close_inherited_fds(low: int, high: int) -> None:
    """Close what the zygote had open, except read-only regular files: those are the font
    files behind matplotlib's warm font cache, which the snippet could open itself anyway.
    Each of those is reopened onto the same descriptor: a fresh open file description of
    our own, so flags, offsets and locks a snippet sets on it (O_DIRECT, flock) never
    reach the zygote or the snippets after it."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if not low <= fd < high:
            continue
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
            read_only = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
        except OSError:
            continue  # the directory listing's own descriptor, already gone
        if not (regular and read_only):
            os.close(fd)
            continue
        fresh = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
        os.dup2(fresh, fd, inheritable=False)
        os.close(fresh)


MAX_FRAMES, MAX_EXCEPTION_CHARS = 40, 8000


def _snippet_traceback(exc: BaseException) -> str:
    """The traceback restricted to the snippet's own frames, so it is the same on any
    worker whatever paths the libraries live under. Bounded in the middle, never at the
    ends: the frames say where it failed, the exception's first and last lines say why
    (plotly's messages list every valid property and run to tens of kilobytes)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SNIPPET_FILENAME][-MAX_FRAMES:]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    exception = "".join(traceback.format_exception_only(type(exc), exc))
    if len(exception) > MAX_EXCEPTION_CHARS:
        half = MAX_EXCEPTION_CHARS // 2
        exception = f"{exception[:half]}\n... [{len(exception) - 2 * half} characters trimmed] ...\n{exception[-half:]}"
    return "".join(lines) + exception


def _run_code(code: bytes) -> tuple[int, BaseException | None]:
    """Execute the snippet as __main__; returns (exit code, exception or None)."""
    try:
        text = code.decode("utf-8")
        linecache.cache[SNIPPET_FILENAME] = (len(text), None, text.splitlines(True), SNIPPET_FILENAME)
    except UnicodeDecodeError:
        pass  # compile() reports undecodable source as a SyntaxError
    namespace = {"__name__": "__main__", "__file__": SNIPPET_FILENAME, "__builtins__": builtins}
    try:
        exec(compile(code, SNIPPET_FILENAME, "exec", dont_inherit=True), namespace)
    except SystemExit as exc:
        if exc.code is None or exc.code == 0:
            return 0, None
        return (exc.code if isinstance(exc.code, int) else 1), exc
    except BaseException as exc:  # the snippet's failure is data, whatever it is
        return 1, exc
    return 0, None


def _report(report_fd: int, exit_code: int, exc: BaseException | None) -> None:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    header: dict = {"exit_code": exit_code & 0xFF, "images": [], "placeholders": capture.PLACEHOLDERS,
                    "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                    "maxrss_mb": max(own.ru_maxrss, children.ru_maxrss) / 1024}
    if exc is not None:
        header.update(error_type=type(exc).__name__, error_message=str(exc)[:4000],
                      traceback=_snippet_traceback(exc), memory_error=isinstance(exc, MemoryError))
    blobs = []
    for item in capture.CAPTURED:
        payload = item.png if item.png is not None else (item.spec or "").encode()
        header["images"].append({"source": item.source, "name": item.name, "artists": item.artists,
                                 "kind": "png" if item.png is not None else "spec"})
        blobs.append(payload)
    with os.fdopen(report_fd, "wb") as report:
        write_message(report, header, blobs)


def run(spec: ChildSpec, stdout_fd: int, stderr_fd: int, report_fd: int, job_fd: int) -> None:
    """Never returns: ends the process with the snippet's exit code.

    Forked ahead of time, in three steps on the job pipe, so that fork and set-up stay off
    the snippet's critical path: right after the fork it takes its descriptors and waits;
    `prepare` (sent once its fresh scratch is mounted) moves it there and sets every limit;
    with the snippet's code it drops to the snippet's uid and runs it. Until then it is the
    supervisor's uid, which no snippet can signal. Every limit is in force before the
    snippet's first line."""
    exit_code = 1
    try:
        signal.set_wakeup_fd(-1)  # the zygote's SIGCHLD wake-up is not ours
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if spec.own_ipc:  # SysV and POSIX IPC objects die with this snippet's processes
            os.unshare(os.CLONE_NEWIPC)
        os.setsid()
        # The report channel sits on the highest allowed fd, out of the way of snippets
        # that close or reuse their low descriptors.
        high_fd = spec.limits.max_open_files - 1
        os.dup2(report_fd, high_fd)
        os.dup2(job_fd, high_fd - 1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        _close_inherited_fds(3, high_fd - 1)
        with os.fdopen(high_fd - 1, "rb") as jobs:
            prepare, _ = read_message(jobs, MAX_CODE_BYTES)
            _prepare(spec, prepare)
            _, (code,) = read_message(jobs, MAX_CODE_BYTES)
        if spec.uid is not None:
            drop_privileges(spec.uid)
        me = os.getpid()
        exit_code, exc = _run_code(code)
        if os.getpid() != me:  # a plain os.fork() child that ran off the end of the snippet
            os._exit(exit_code & 0xFF)
        try:
            capture.capture_matplotlib()
        except BaseException as capture_exc:  # e.g. a figure too large to render
            if exc is None:
                exit_code, exc = 1, capture_exc
        try:
            capture.capture_jpeg_files(spec.limits.max_file_bytes)
        except BaseException:
            pass
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        _report(high_fd, exit_code, exc)
        # Done: stop, and let the supervisor kill us. Tearing down this large address
        # space (~5 ms) then overlaps with the supervisor's own work instead of
        # preceding it. Our own code wrote the report, after the snippet's last line.
        for fd in (0, 1, 2):
            try:
                os.close(fd)
            except OSError:
                pass
        os.kill(os.getpid(), signal.SIGSTOP)
    except BaseException:  # our own setup failed: say so on stderr, the status stays out-of-band
        try:
            os.write(2, ("viscode sandbox: child setup failed\n" + traceback.format_exc()).encode())
        except OSError:
            pass
    finally:
        os._exit(exit_code & 0xFF)


def _prepare(spec: ChildSpec, prepare: dict) -> None:
    """Everything that does not depend on the snippet's code: its scratch, its limits, the
    same random streams in every mode and on every worker."""
    with open(spec.oom_score_adj, "w") as f:
        f.write("1000")  # under memory pressure the snippet dies, not the supervisor or the zygote
    os.environ.update(prepare["env"])
    tempfile.tempdir = None
    os.chdir(prepare["workdir"])
    _set_limits(spec)
    capture.MAX_CAPTURES = spec.limits.max_images
    capture.MAX_CAPTURE_BYTES = spec.limits.max_file_bytes
    capture.MAX_TOTAL_BYTES = spec.limits.max_image_bytes
    random.seed(0)
    when_imported("numpy.random", lambda np_random: np_random.seed(0))
    sys.argv = [SNIPPET_FILENAME]
    capture.install_import_hooks()
