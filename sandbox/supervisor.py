"""The supervisor: a long-lived interpreter that forks one fresh child per snippet.

In a jail it runs as the jail's PID 1, so no snippet can SIGKILL it, and every process
in the jail but itself and the next snippet's waiting child is one the snippet started
(daemons included, as they are re-parented to us): those are killed and reaped before
it answers. It owns the per-snippet timer, output caps and scratch, and answers the host
with one framed message per snippet. In warm mode it imports and exercises the plotting
stack once and forks each snippet's child while the snippet before it runs; in cold
mode it serves a single snippet.
"""

from __future__ import annotations

import io
import json
import math
import os
import selectors
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from . import capture, child
from .limits import Limits
from .outputs import HeadTail
from .privileges import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, prctl
from .protocol import ProtocolError, read_message, take_stdio, write_message
from .scratch import DirScratch, Scratch, TmpfsScratch, collect_image_files

CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT,
                 signal.SIGSYS, signal.SIGTRAP}
DRAIN_AFTER_EXIT_S = 0.05
MAX_JOB_BYTES = 256 * 1024 * 1024
# Our child's report header is a few kilobytes (image entries, a capped traceback); parsing
# a forged one of tens of megabytes would cost the supervisor a gigabyte of objects.
MAX_REPORT_HEADER_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    mode: str  # "warm" | "cold"
    isolation: str  # "nsjail" | "process"
    limits: Limits
    font_cache: str
    snippet_uid: int | None
    scratch_dirs: dict[str, str] = field(default_factory=dict)
    scratch_root: str | None = None
    data_limit_mb: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> SupervisorConfig:
        raw = json.loads(text)
        raw["limits"] = Limits(**raw["limits"])
        return cls(**raw)


@dataclass(slots=True)
class Outcome:
    """What the supervisor itself observed about one child."""

    wait_status: int | None = None
    cpu_s: float = 0.0
    maxrss_mb: float = 0.0
    timed_out: bool = False
    stopped: bool = False  # finished: report complete, then stopped itself for us to kill
    flooded: str | None = None
    duration_s: float = 0.0
    stdout: HeadTail | None = None
    stderr: HeadTail | None = None
    report: bytes = b""


def _kill_all(sig: int, keep: int | None = None) -> None:
    """Signal every process the snippet started, never `keep` (the next snippet's child,
    forked while this one runs). As the jail's PID 1 with nothing to keep, kill(-1)
    reaches exactly those; otherwise each process is signalled by pid (outside a jail
    only our own descendants: kill(-1) there would hit every process the user owns)."""
    if os.getpid() == 1 and keep is None:
        try:
            os.kill(-1, sig)
        except ProcessLookupError:
            pass
        return
    for pid in _other_processes(keep):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _other_processes(keep: int | None) -> list[int]:
    """Every process left besides us and `keep` (the next pre-forked child)."""
    if os.getpid() == 1:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    else:
        import psutil

        pids = [p.pid for p in psutil.Process().children(recursive=True)]
    return [p for p in pids if p not in (1, os.getpid(), keep)]


def _reap_leftovers(keep: int | None = None, deadline_s: float = 3.0) -> bool:
    """Reap what the last snippet left (already sent SIGKILL), killing any straggler by
    pid so `keep` survives; True once nothing else remains and `keep` is alive."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            while (pid := os.waitpid(-1, os.WNOHANG)[0]) != 0:
                if pid == keep:
                    return False
        except ChildProcessError:
            return keep is None
        others = _other_processes(keep)
        if not others:
            return True
        if time.monotonic() > end:
            return False
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.001)


def _end_everything() -> bool:
    _kill_all(signal.SIGKILL)
    return _reap_leftovers()


class _ReportProgress:
    """Whether a whole framed report has arrived (header and every blob). The header is
    parsed once, when all of it is in, and never when over MAX_REPORT_HEADER_BYTES: a
    forged header must cost neither memory nor a re-parse at every wake-up."""

    def __init__(self) -> None:
        self.total: int | None = None  # bytes of the whole message, once the header is known

    def complete(self, buf: bytearray) -> bool:
        if self.total is None:
            if len(buf) < 4:
                return False
            size = int.from_bytes(buf[:4], "big")
            if size > MAX_REPORT_HEADER_BYTES:
                return True  # complete as far as we care: parsing will drop it
            if len(buf) < 4 + size:
                return False
            try:
                blobs = json.loads(bytes(buf[4:4 + size])).get("blobs", [])
            except (ValueError, RecursionError, AttributeError):  # untrusted: unparsable is finished, useless
                return True
            if not isinstance(blobs, list) or not all(type(b) is int and b >= 0 for b in blobs):
                return True  # complete, and malformed: parsing will drop it
            self.total = 4 + size + sum(blobs)
        return len(buf) >= self.total


def _supervise(pid: int, fds: dict[str, int], limits: Limits, start: float, sigchld_fd: int,
               keep: int | None) -> Outcome:
    out = Outcome(stdout=HeadTail(limits.max_output_bytes), stderr=HeadTail(limits.max_output_bytes))
    streams = {"stdout": out.stdout, "stderr": out.stderr}
    report = bytearray()
    report_cap = limits.max_report_bytes
    sel = selectors.DefaultSelector()
    for name, fd in fds.items():
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ, name)
    pidfd = os.pidfd_open(pid)
    sel.register(pidfd, selectors.EVENT_READ, "exit")
    sel.register(sigchld_fd, selectors.EVENT_READ, "sigchld")
    deadline = start + limits.timeout_s
    kill_at: float | None = None
    drain_until: float | None = None
    open_fds = set(fds.values())
    report_overflow = False
    progress = _ReportProgress()

    def finished_and_stopped() -> bool:
        """The child wrote its whole report and stopped itself (see child.run)."""
        report_done = report_overflow or fds["report"] not in open_fds or progress.complete(report)
        return report_done and bool(report) and _stopped(pid)

    while open_fds or (out.wait_status is None and not out.stopped):
        now = time.monotonic()
        if drain_until is not None and now >= drain_until:
            break
        if out.wait_status is None and not out.stopped and now >= deadline and kill_at is None:
            out.timed_out = True
            _kill_all(signal.SIGTERM, keep)
            kill_at = now + limits.kill_grace_s
        if kill_at is not None and now >= kill_at:
            _kill_all(signal.SIGKILL, keep)
            kill_at = now + 0.05
        wake = min(t for t in (deadline, kill_at, drain_until) if t is not None)
        for key, _ in sel.select(timeout=max(0.0, wake - now) if wake > now else 0.001):
            name = key.data
            if name == "sigchld":
                _drain(sigchld_fd)
                continue
            if name == "exit":
                sel.unregister(pidfd)
                _, status, usage = os.wait4(pid, 0)
                out.wait_status = status
                out.cpu_s = usage.ru_utime + usage.ru_stime
                out.maxrss_mb = usage.ru_maxrss / 1024
                out.duration_s = time.monotonic() - start
                # Grandchildren may still hold the pipes: take what is buffered, briefly.
                drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S
                continue
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fd)
                open_fds.discard(key.fd)
                continue
            if name == "report":
                if len(report) + len(data) <= report_cap:
                    report += data
                else:
                    report_overflow = True
                continue
            streams[name].feed(data)
            if (streams[name].total > limits.output_flood_bytes and out.flooded is None
                    and out.wait_status is None and not out.stopped):
                out.flooded = name
                _kill_all(signal.SIGKILL, keep)
        # Checked after every wake-up, not only on SIGCHLD: the stop may come before or
        # after the last report bytes are read, and a wake-up byte may already be spent.
        if out.wait_status is None and not out.stopped and kill_at is None and finished_and_stopped():
            out.stopped = True
            out.duration_s = time.monotonic() - start
            drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S
    sel.close()
    _drain(sigchld_fd)
    os.close(pidfd)
    for fd in fds.values():
        os.close(fd)
    out.report = b"" if report_overflow else bytes(report)
    return out


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _stopped(pid: int) -> bool:
    """Peek (WNOWAIT: nothing is reaped) whether the child is stopped; an exited child
    is left for the pidfd path."""
    try:
        info = os.waitid(os.P_PID, pid, os.WSTOPPED | os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return info is not None and info.si_code == os.CLD_STOPPED


def _parse_report(raw: bytes) -> tuple[dict, list[bytes]]:
    """The snippet's own report is untrusted: anything malformed (bad framing, JSON too
    deep to parse) is simply no report."""
    if not raw or int.from_bytes(raw[:4], "big") > MAX_REPORT_HEADER_BYTES:
        return {}, []
    try:
        return read_message(io.BytesIO(raw), max_bytes=len(raw))
    except (ProtocolError, RecursionError, ValueError):
        return {}, []


def _text(value, limit: int) -> str | None:
    """A report field as safe text: a string, capped, with no lone surrogates."""
    if value is None:
        return None
    try:
        text = str(value)
    except RecursionError:  # a forged value nested just under the JSON parser's depth limit
        text = type(value).__name__
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def _classify(outcome: Outcome, report: dict, limits: Limits) -> dict:
    """Status from what we observed (our timer, our kills, the signal); the snippet's
    own report only adds the exception details of an ordinary error."""
    res: dict = {"exit_code": None, "signal": None}
    status = outcome.wait_status
    if outcome.stopped:  # it ran to the end of our own code: the exit code it reported
        code = report.get("exit_code")
        res["exit_code"] = code & 0xFF if type(code) is int else 1
    elif status is not None and os.WIFSIGNALED(status):
        res["signal"] = os.WTERMSIG(status)
    elif status is not None:
        res["exit_code"] = os.WEXITSTATUS(status)
    sig = res["signal"]
    if outcome.timed_out:
        return res | {"status": "timeout", "error_type": "Timeout",
                      "error_message": f"wall-clock limit of {limits.timeout_s:g} s exceeded"}
    if outcome.flooded:
        return res | {"status": "killed", "error_type": "OutputLimitExceeded",
                      "error_message": f"{outcome.flooded} exceeded {limits.output_flood_bytes} bytes"}
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and outcome.cpu_s >= limits.cpu_s):
        return res | {"status": "timeout", "error_type": "CPUTimeLimit",
                      "error_message": f"CPU time limit of {limits.cpu_s:g} s exceeded"}
    if sig in CRASH_SIGNALS:
        return res | {"status": "crashed", "error_type": signal.Signals(sig).name,
                      "error_message": f"process died with {signal.Signals(sig).name}"}
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        return res | {"status": "killed", "error_type": name, "error_message": f"process killed by {name}"}
    if report.get("error_type"):
        details = {"error_type": _text(report["error_type"], 200),
                   "error_message": _text(report.get("error_message"), 4000),
                   "traceback": _text(report.get("traceback"), 16000)}
        return res | details | {"status": "memory" if report.get("memory_error") is True else "error"}
    if res["exit_code"]:
        return res | {"status": "error", "error_type": "SystemExit",
                      "error_message": f"exited with code {res['exit_code']}"}
    return res | {"status": "ok"}


def _images(report: dict, blobs: list[bytes], scratch: Scratch, skip: set[str],
            limits: Limits) -> tuple[list[dict], list[bytes]]:
    """Images from the snippet's report (validated, never decoded here) and PNG files it
    wrote, within the count and byte budgets. Files the snippet reported itself (JPEGs it
    converted, placeholders plotly wrote) are not collected twice."""
    metas, payloads = [], []
    budget = limits.max_image_bytes
    entries = report.get("images") if isinstance(report.get("images"), list) else []
    for meta, blob in zip(entries, blobs):
        if not isinstance(meta, dict) or len(payloads) >= limits.max_images or len(blob) > limits.max_file_bytes:
            continue
        source = meta.get("source")
        kind = "spec" if meta.get("kind") == "spec" else "png"
        if source not in ("matplotlib", "plotly", "file") or len(blob) > budget:
            continue
        if kind == "png" and capture.png_size(blob) is None:
            continue
        artists = meta.get("artists") if type(meta.get("artists")) is int else None
        metas.append({"source": source, "name": _text(meta.get("name", ""), 200), "artists": artists, "kind": kind})
        payloads.append(blob)
        budget -= len(blob)
    room = limits.max_images - len(payloads)
    reported = {m["name"] for m in metas if m["source"] == "file"}
    listed = report.get("placeholders")
    placeholders = {p for p in listed if isinstance(p, str)} if isinstance(listed, list) else set()
    if room > 0:
        for name, data in collect_image_files(scratch.workdir, skip=skip | reported | placeholders,
                                              max_files=room, max_bytes=min(limits.max_file_bytes, budget)):
            if capture.png_size(data) is not None and len(data) <= budget:
                metas.append({"source": "file", "name": _text(name, 200), "artists": None, "kind": "png"})
                payloads.append(data)
                budget -= len(data)
    return metas, payloads


def _scratch_env(scratch: Scratch) -> dict[str, str]:
    return {"HOME": scratch.dirs["home"], "MPLCONFIGDIR": scratch.mplconfigdir, "TMPDIR": scratch.dirs["tmp"]}


@dataclass(slots=True)
class Prepared:
    """A child forked ahead of time, waiting on its job pipe (see child.run)."""

    pid: int
    reads: dict[str, int]
    job: BinaryIO

    def prepare(self, scratch: Scratch) -> None:
        """Send it to its fresh scratch to drop privileges and set its limits, ahead of its snippet."""
        write_message(self.job, {"env": _scratch_env(scratch), "workdir": scratch.workdir})


def prefork(cfg: SupervisorConfig) -> Prepared | None:
    """Fork the next snippet's child now, so fork and set-up are paid before its snippet
    arrives rather than after; None if no process can be forked (pids or memory used up)."""
    limits = cfg.limits
    pipes = {name: os.pipe() for name in ("stdout", "stderr", "report", "job")}
    spec = child.ChildSpec(limits=limits, uid=cfg.snippet_uid,
                           data_limit_bytes=(_vm_data_bytes() + cfg.data_limit_mb * 2**20) if cfg.data_limit_mb else None)
    try:
        pid = os.fork()
    except OSError:
        for r, w in pipes.values():
            os.close(r)
            os.close(w)
        return None
    if pid == 0:
        child.run(spec, pipes["stdout"][1], pipes["stderr"][1], pipes["report"][1], pipes["job"][0])
    for name, (r, w) in pipes.items():
        os.close(r if name == "job" else w)
    return Prepared(pid, {n: r for n, (r, _) in pipes.items() if n != "job"}, os.fdopen(pipes["job"][1], "wb"))


def _vm_data_bytes() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return 0


def _number(value, ceiling: float) -> float:
    """A measurement the child reported, as a finite number within what is possible."""
    try:
        number = float(value) if type(value) in (int, float) else 0.0
    except OverflowError:
        return 0.0
    return min(max(number, 0.0), ceiling) if math.isfinite(number) else 0.0


def run_job(cfg: SupervisorConfig, scratch: Scratch, prepared: Prepared, header: dict,
            blobs: list[bytes], sigchld_fd: int) -> tuple[dict, list[bytes], Prepared | None]:
    """One snippet: its data files into the prepared scratch, its code to the waiting child,
    the next snippet's child forked while this one runs (warm mode), supervision, every
    process it started ended, classification, images. Returns the reply for the host and
    the next child (None in cold mode, or when no process could be forked)."""
    limits = cfg.limits
    files = dict(zip(header.get("files", []), blobs[1:]))
    scratch.place(files)
    _drain(sigchld_fd)  # wake-ups from the last snippet's end are not this one's
    start = time.monotonic()
    try:
        write_message(prepared.job, {}, [blobs[0]])
        delivered = True
    except OSError:
        delivered = False  # the waiting child died before it got the snippet
    finally:
        try:
            prepared.job.close()
        except OSError:
            pass
    # Forked now, on another core while this snippet runs, so the fork is off the
    # critical path; it waits as the jail's uid 0, which the snippet cannot signal.
    upcoming = prefork(cfg) if cfg.mode == "warm" else None
    keep = upcoming.pid if upcoming else None
    outcome = _supervise(prepared.pid, prepared.reads, limits, start, sigchld_fd, keep)
    _kill_all(signal.SIGKILL, keep)  # everything it started; reaped before the answer goes out
    if not delivered:
        return {"status": "sandbox_error", "error_type": "SandboxError",
                "error_message": "the snippet's process died before it received the snippet",
                "exit_code": None, "signal": None, "images": []}, [], upcoming
    # No blanket except here: whatever a snippet can send is handled where it is read, and
    # anything else raised is our bug, which ends this supervisor (sandbox_error, replaced).
    result, metas, payloads = _assess(outcome, outcome.report, scratch, set(files), limits)
    result.update(
        stdout=outcome.stdout.text(), stderr=outcome.stderr.text(),
        stdout_truncated=outcome.stdout.truncated, stderr_truncated=outcome.stderr.truncated,
        duration_s=outcome.duration_s or time.monotonic() - start, cpu_s=outcome.cpu_s,
        maxrss_mb=outcome.maxrss_mb, images=metas,
    )
    return result, payloads, upcoming


def _assess(outcome: Outcome, raw_report: bytes, scratch: Scratch, skip: set[str],
            limits: Limits) -> tuple[dict, list[dict], list[bytes]]:
    report, report_blobs = _parse_report(raw_report)
    if outcome.stopped:
        outcome.cpu_s = _number(report.get("cpu_s"), outcome.duration_s * 64)
        outcome.maxrss_mb = _number(report.get("maxrss_mb"), 1 << 20)
    metas, payloads = _images(report, report_blobs, scratch, skip, limits)
    return _classify(outcome, report, limits), metas, payloads


def _ready(prepared: Prepared, scratch: Scratch) -> bool:
    """Fresh scratch for the next snippet, and its child sent there; False if that child died."""
    scratch.reset()
    try:
        prepared.prepare(scratch)
    except OSError:
        return False
    return True


def _make_scratch(cfg: SupervisorConfig) -> Scratch:
    if cfg.isolation == "nsjail":
        return TmpfsScratch(dict(cfg.scratch_dirs), cfg.limits.scratch_mb, cfg.snippet_uid, cfg.font_cache)
    return DirScratch({}, cfg.limits.scratch_mb, cfg.snippet_uid, cfg.font_cache, root=cfg.scratch_root)


def _sigchld_wakeup() -> int:
    """A pipe that becomes readable whenever a child changes state (stops, above all)."""
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    return r


def main() -> None:
    cfg = SupervisorConfig.from_json(sys.argv[1])
    requests, replies = take_stdio()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    prctl(PR_SET_DUMPABLE, 0)  # snippets cannot ptrace us or read our memory
    if cfg.isolation == "process":
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # daemonized grandchildren come back to us
    capture.install_import_hooks()
    sigchld_fd = _sigchld_wakeup()
    scratch = _make_scratch(cfg)
    scratch.reset()  # a writable MPLCONFIGDIR holding the pre-built font cache, for warm-up
    os.environ.update(_scratch_env(scratch))
    preloaded: list[str] = []
    if cfg.mode == "warm":
        from .warmup import warm_up

        preloaded = warm_up()
    prepared = prefork(cfg)
    if prepared is None or not _ready(prepared, scratch):
        raise OSError("cannot fork and prepare the first snippet's process")
    write_message(replies, {"ready": True, "preloaded": preloaded})
    try:
        while True:
            try:
                header, blobs = read_message(requests, MAX_JOB_BYTES)
            except ProtocolError:
                break  # the host closed the channel: we are done
            result, payloads, prepared = run_job(cfg, scratch, prepared, header, blobs, sigchld_fd)
            if cfg.mode == "warm" and prepared is None:
                prepared = prefork(cfg)  # none could be forked while the snippet ran
            # Answer once everything the snippet started is gone and its scratch replaced,
            # so the jail is back at its clean level when the host measures the next one.
            clean = _reap_leftovers(keep=prepared.pid if prepared else None)
            if cfg.mode == "warm":
                clean = clean and prepared is not None and _ready(prepared, scratch)
            write_message(replies, result | {"clean": clean}, payloads)
            if cfg.mode == "cold" or not clean:
                break  # something would not die: exit, and the host starts a fresh jail
    finally:
        _end_everything()
        if isinstance(scratch, DirScratch):
            scratch.cleanup()
