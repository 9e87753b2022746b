"""The supervisor: the jail's PID 1, which runs each snippet in a fresh child and answers.

Every snippet's process is forked by the zygote (zygote.py), a warm interpreter that never
holds a job or an answer; the supervisor hands the child its code and data files and reads
its output, limits and report. As PID 1 no snippet can SIGKILL it, and every process in the
jail but itself, the zygote and the next snippet's waiting child is one the snippet started
(daemons included, as they are re-parented here): those are killed and reaped before it
answers. It owns the per-snippet timer, output caps and scratch, and answers the host with
one framed message per snippet. In warm mode the zygote warms the plotting stack once and
forks each snippet's child while the snippet before it runs; in cold mode one snippet is
served.
"""

from __future__ import annotations

import io
import json
import math
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from . import capture, zygote
from .limits import Limits
from .outputs import HeadTail
from .pngcheck import CheckBudget, png_problem
from .privileges import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, prctl, prepare_jail_proc
from .protocol import ProtocolError, read_message, take_stdio, write_message
from .scratch import DirScratch, Scratch, TmpfsScratch, collect_image_files

CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT,
                 signal.SIGSYS, signal.SIGTRAP}
DRAIN_AFTER_EXIT_S = 0.05
MAX_JOB_BYTES = 256 * 1024 * 1024
# Our child's report header is a few kilobytes (image entries, a capped traceback); parsing
# a forged one of tens of megabytes would cost the supervisor a gigabyte of objects.
MAX_REPORT_HEADER_BYTES = 1024 * 1024
# The image data of one snippet's PNGs inflates to at most this many bytes per pixel of the
# cap, in all, when checked: 640 MB by default, about half a second at worst.
CHECK_BYTES_PER_CAPPED_PIXEL = 16


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


def _kill_all(sig: int, keep: frozenset[int] = frozenset()) -> None:
    """Signal every process the snippet started, never one in `keep` (the zygote, the next
    snippet's waiting child). Each is signalled by pid; outside a jail only our own
    descendants are (kill(-1) there would hit every process the user owns)."""
    for pid in _other_processes(keep):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _other_processes(keep: frozenset[int]) -> list[int]:
    """Every process left besides us and `keep`."""
    if os.getpid() == 1:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    else:
        import psutil

        pids = [p.pid for p in psutil.Process().children(recursive=True)]
    return [p for p in pids if p != 1 and p != os.getpid() and p not in keep]


def _reap_leftovers(keep: frozenset[int], deadline_s: float = 3.0) -> bool:
    """Reap what the last snippet left (already sent SIGKILL), killing any straggler by
    pid so `keep` survives; True once nothing else remains and all of `keep` is alive
    (our own children are reaped here, the snippet's process by the zygote)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            while (pid := os.waitpid(-1, os.WNOHANG)[0]) != 0:
                if pid in keep:
                    return False
        except ChildProcessError:
            pass
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


def _end_everything() -> None:
    if os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)  # every process of the jail but us
        except ProcessLookupError:
            pass
    else:
        _kill_all(signal.SIGKILL)
    _reap_leftovers(frozenset())


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


def _supervise(child: Prepared, limits: Limits, start: float, link: ZygoteLink) -> Outcome:
    """Watch one snippet's process to its end: its output, its report, the events the zygote
    sends about it, our timer. The next snippet's child, asked for at hand-off, arrives here
    too (link.upcoming) and is spared by every kill."""
    out = Outcome(stdout=HeadTail(limits.max_output_bytes), stderr=HeadTail(limits.max_output_bytes))
    streams = {"stdout": out.stdout, "stderr": out.stderr}
    fds = child.reads
    report = bytearray()
    report_cap = limits.max_report_bytes
    sel = selectors.DefaultSelector()
    for name, fd in fds.items():
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ, name)
    sel.register(link.sock, selectors.EVENT_READ, "zygote")
    deadline = start + limits.timeout_s
    kill_at: float | None = None
    drain_until: float | None = None
    open_fds = set(fds.values())
    report_overflow = False
    progress = _ReportProgress()
    stopped_now = False  # the child's current state, from the zygote's stop/continue events

    def about_child(event: dict) -> None:
        nonlocal stopped_now, drain_until
        if event.get("pid") != child.pid:
            return  # the next child, or one of an earlier snippet
        if event["op"] in ("stopped", "continued"):
            stopped_now = event["op"] == "stopped"
        elif event["op"] == "exited" and out.wait_status is None:
            out.wait_status = event["status"]
            out.cpu_s, out.maxrss_mb = event["cpu_s"], event["maxrss_mb"]
            out.duration_s = time.monotonic() - start
            # Grandchildren may still hold the pipes: take what is buffered, briefly.
            drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S

    for event in link.backlog:
        about_child(event)
    link.backlog.clear()

    def finished_and_stopped() -> bool:
        """The child wrote its whole report and stopped itself (see child.run)."""
        report_done = report_overflow or fds["report"] not in open_fds or progress.complete(report)
        return report_done and bool(report) and stopped_now

    while open_fds or (out.wait_status is None and not out.stopped):
        now = time.monotonic()
        if drain_until is not None and now >= drain_until:
            break
        if out.wait_status is None and not out.stopped and now >= deadline and kill_at is None:
            out.timed_out = True
            _kill_all(signal.SIGTERM, link.keep)
            kill_at = now + limits.kill_grace_s
        if kill_at is not None and now >= kill_at:
            _kill_all(signal.SIGKILL, link.keep)
            kill_at = now + 0.05
        wake = min(t for t in (deadline, kill_at, drain_until) if t is not None)
        for key, _ in sel.select(timeout=max(0.0, wake - now) if wake > now else 0.001):
            name = key.data
            if name == "zygote":
                event = link.event()
                if event is None:  # our own failure: the supervisor ends and the host replaces the jail
                    raise OSError("the zygote is gone")
                about_child(event)
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
                _kill_all(signal.SIGKILL, link.keep)
        # Checked after every wake-up: the stop may come before or after the last report bytes.
        if out.wait_status is None and not out.stopped and kill_at is None and finished_and_stopped():
            out.stopped = True
            out.duration_s = time.monotonic() - start
            drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S
    sel.close()
    for fd in fds.values():
        os.close(fd)
    out.report = b"" if report_overflow else bytes(report)
    return out


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
    checks = CheckBudget(CHECK_BYTES_PER_CAPPED_PIXEL * limits.max_image_pixels)
    entries = report.get("images") if isinstance(report.get("images"), list) else []
    for meta, blob in zip(entries, blobs):
        if not isinstance(meta, dict) or len(payloads) >= limits.max_images or len(blob) > limits.max_file_bytes:
            continue
        source = meta.get("source")
        kind = "spec" if meta.get("kind") == "spec" else "png"
        if source not in ("matplotlib", "plotly", "file") or len(blob) > budget:
            continue
        if kind == "png" and png_problem(blob, limits.max_image_pixels, checks) is not None:
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
            if len(data) <= budget and png_problem(data, limits.max_image_pixels, checks) is None:
                metas.append({"source": "file", "name": _text(name, 200), "artists": None, "kind": "png"})
                payloads.append(data)
                budget -= len(data)
    return metas, payloads


def _scratch_env(scratch: Scratch) -> dict[str, str]:
    return {"HOME": scratch.dirs["home"], "MPLCONFIGDIR": scratch.mplconfigdir, "TMPDIR": scratch.dirs["tmp"]}


@dataclass(slots=True)
class Prepared:
    """A snippet's process, forked by the zygote, waiting on its job pipe (see child.run)."""

    pid: int
    reads: dict[str, int]
    job: BinaryIO

    def prepare(self, scratch: Scratch) -> None:
        """Send it to its fresh scratch to set its limits, ahead of its snippet."""
        write_message(self.job, {"env": _scratch_env(scratch), "workdir": scratch.workdir})

    def close(self) -> None:
        for fd in self.reads.values():
            os.close(fd)
        try:
            self.job.close()
        except OSError:
            pass


class ZygoteLink:
    """The supervisor's end of the zygote: children asked for, and events about them."""

    def __init__(self, cfg: SupervisorConfig) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            zygote.serve(cfg, theirs)
        theirs.close()
        self.pid, self.sock = pid, ours
        self.upcoming: Prepared | None = None  # the next snippet's child, once it has arrived
        self.asked = False  # a child was asked for and has not arrived yet
        self.backlog: list[dict] = []  # events read while waiting for a child, not yet handled
        ready, _ = zygote.receive(ours)
        if not ready or ready.get("op") != "ready":
            raise OSError("the zygote did not start")
        self.preloaded: list[str] = ready["preloaded"]

    @property
    def keep(self) -> frozenset[int]:
        """What no kill may reach: the zygote and the next snippet's child."""
        return frozenset((self.pid, self.upcoming.pid) if self.upcoming else (self.pid,))

    def ask(self) -> None:
        """Ask for the next snippet's child (it arrives through event())."""
        if not self.asked and self.upcoming is None:
            zygote.send(self.sock, {"op": "fork"})
            self.asked = True

    def event(self) -> dict | None:
        """The next message from the zygote (None if it is gone). A child that arrives is
        kept as `upcoming`; one that dies before its snippet is forgotten."""
        message, fds = zygote.receive(self.sock)
        if message is None:
            return None
        if message["op"] == "forked":
            self.asked = False
            reads = dict(zip(zygote.CHILD_FDS[:3], fds[:3]))
            self.upcoming = Prepared(message["pid"], reads, os.fdopen(fds[3], "wb"))
        elif message["op"] == "exited" and self.upcoming and message["pid"] == self.upcoming.pid:
            self.upcoming.close()
            self.upcoming = None
        return message

    def settle(self) -> None:
        """Wait until the child asked for has arrived, so every kill from now on spares it;
        what else the zygote says meanwhile is kept in the backlog."""
        while self.asked:
            event = self.event()
            if event is None:
                raise OSError("the zygote is gone")
            if event["op"] != "forked":
                self.backlog.append(event)

    def take(self) -> Prepared:
        """The next snippet's child, waiting for it (and asking for one) if need be."""
        self.ask()
        while self.upcoming is None:
            if self.event() is None:
                raise OSError("the zygote is gone")
            self.ask()  # the one asked for died before it arrived
        child, self.upcoming = self.upcoming, None
        return child


def _number(value, ceiling: float) -> float:
    """A measurement the child reported, as a finite number within what is possible."""
    try:
        number = float(value) if type(value) in (int, float) else 0.0
    except OverflowError:
        return 0.0
    return min(max(number, 0.0), ceiling) if math.isfinite(number) else 0.0


def run_job(cfg: SupervisorConfig, scratch: Scratch, child: Prepared, header: dict,
            blobs: list[bytes], link: ZygoteLink) -> tuple[dict, list[bytes]]:
    """One snippet: its data files into the prepared scratch, its code to the waiting child,
    the next snippet's child forked by the zygote while this one runs (warm mode),
    supervision, every process it started ended, classification, images."""
    limits = cfg.limits
    files = dict(zip(header.get("files", []), blobs[1:]))
    scratch.place(files)
    start = time.monotonic()
    try:
        write_message(child.job, {}, [blobs[0]])
        delivered = True
    except OSError:
        delivered = False  # the waiting child died before it got the snippet
    finally:
        try:
            child.job.close()
        except OSError:
            pass
    if cfg.mode == "warm":
        # Forked now, on another core while this snippet runs, so the fork is off the
        # critical path; it waits as the jail's uid 0, which the snippet cannot signal.
        link.ask()
        link.settle()
    outcome = _supervise(child, limits, start, link)
    _kill_all(signal.SIGKILL, link.keep)  # everything it started; reaped before the answer goes out
    if not delivered:
        return {"status": "sandbox_error", "error_type": "SandboxError",
                "error_message": "the snippet's process died before it received the snippet",
                "exit_code": None, "signal": None, "images": []}, []
    # No blanket except here: whatever a snippet can send is handled where it is read, and
    # anything else raised is our bug, which ends this supervisor (sandbox_error, replaced).
    result, metas, payloads = _assess(outcome, outcome.report, scratch, set(files), limits)
    result.update(
        stdout=outcome.stdout.text(), stderr=outcome.stderr.text(),
        stdout_truncated=outcome.stdout.truncated, stderr_truncated=outcome.stderr.truncated,
        duration_s=outcome.duration_s or time.monotonic() - start, cpu_s=outcome.cpu_s,
        maxrss_mb=outcome.maxrss_mb, images=metas,
    )
    return result, payloads


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


def main() -> None:
    cfg = SupervisorConfig.from_json(sys.argv[1])
    requests, replies = take_stdio()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    prctl(PR_SET_DUMPABLE, 0)  # snippets cannot ptrace us or read our memory
    if cfg.isolation == "process":
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # daemonized grandchildren come back to us
    else:
        prepare_jail_proc()  # no host kernel command line; a place to raise each child's oom score
    capture.install_import_hooks()  # for the zygote's warm-up and every child
    scratch = _make_scratch(cfg)
    scratch.reset()  # a writable MPLCONFIGDIR holding the pre-built font cache, for warm-up
    os.environ.update(_scratch_env(scratch))
    os.chdir("/")  # pin no scratch mount
    try:
        link = ZygoteLink(cfg)
        child = link.take()
        if not _ready(child, scratch):
            raise OSError("the first snippet's process died before it was prepared")
        write_message(replies, {"ready": True, "preloaded": link.preloaded})
        while True:
            try:
                header, blobs = read_message(requests, MAX_JOB_BYTES)
            except ProtocolError:
                break  # the host closed the channel: we are done
            result, payloads = run_job(cfg, scratch, child, header, blobs, link)
            # Answer once everything the snippet started is gone and its scratch replaced, so
            # the jail is back at its clean level when the host measures the next one.
            if cfg.mode == "warm":
                child = link.take()
                clean = _reap_leftovers(link.keep | {child.pid}) and _ready(child, scratch)
            else:
                clean = _reap_leftovers(link.keep)
            write_message(replies, result | {"clean": clean}, payloads)
            del header, blobs, result, payloads  # the jail back at its clean level before the next job
            if cfg.mode == "cold" or not clean:
                break  # something would not die: exit, and the host starts a fresh jail
    finally:
        _end_everything()
        if isinstance(scratch, DirScratch):
            scratch.cleanup()
