"""Host side of one supervisor process: start it (jailed or plain), hand it snippets,
read its answers with a backstop deadline, and end it without leaving anything behind."""

from __future__ import annotations

import collections
import os
import selectors
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from .cgroups import JailMemory, remove_jail_cgroups
from .protocol import ProtocolError, read_message, write_message

GRACEFUL_EXIT_S = 2.0


class WorkerDied(Exception):
    """The supervisor process ended, never started, or stopped answering."""


class _DeadlineReader:
    """A file-like reader over a pipe that raises TimeoutError past a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.deadline = float("inf")
        self.sel = selectors.DefaultSelector()
        self.sel.register(fd, selectors.EVENT_READ)

    def read(self, n: int) -> bytes:
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if self.sel.select(timeout=min(left, 3600)):
                return os.read(self.fd, n)


@dataclass
class Reply:
    header: dict
    blobs: list[bytes]
    oom_kills: int
    peak_memory_mb: float | None


class Worker:
    def __init__(self, argv: list[str], env: dict[str, str], *, jailed: bool, memory_mb: int,
                 reply_cap_bytes: int, start_timeout_s: float = 120.0) -> None:
        self.jailed = jailed
        self.reply_cap_bytes = reply_cap_bytes
        self.memory: JailMemory | None = None
        self.clean_bytes: int | None = None
        self.jail_pid: int | None = None
        self.last_oom_kills = 0
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, start_new_session=True, close_fds=True)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.reader = _DeadlineReader(self.proc.stdout.fileno())
        try:
            self.hello = self._read(time.monotonic() + start_timeout_s)[0]
            if not self.hello.get("ready"):
                raise WorkerDied(f"supervisor did not report ready: {self.hello.get('error') or self.stderr_tail()}")
        except TimeoutError:
            self.close()
            raise WorkerDied(f"supervisor not ready within {start_timeout_s:g} s: {self.stderr_tail()}") from None
        except WorkerDied:
            self.close()
            raise
        if jailed:
            try:
                self._tighten_memory(memory_mb)
            except OSError as exc:
                self.close()
                raise WorkerDied(f"cannot apply the memory limit of {memory_mb} MB: {exc}") from None

    def _tighten_memory(self, memory_mb: int) -> None:
        """The snippet's budget on top of what the ready supervisor holds. The jail's cgroup is
        where out-of-memory kills are counted too, so without it no jail runs."""
        self.jail_pid = self._find_jail_pid()
        self.memory = JailMemory.of(self.jail_pid) if self.jail_pid else None
        if self.memory is None:
            raise OSError(f"no memory cgroup found for the jail (nsjail pid {self.proc.pid})")
        usage = self.memory.usage_bytes()
        if usage is None:
            raise OSError(f"cannot read the memory usage in {self.memory.dir}")
        self.memory.set_limit(usage + memory_mb * 1024 * 1024)
        self.clean_bytes = self.memory.unreclaimable_bytes()

    def left_over_bytes(self) -> int:
        """Memory the jail holds beyond its clean level once a snippet is answered: it
        should be none (the snippet's processes, scratch and IPC objects are gone)."""
        now = self.memory.unreclaimable_bytes() if self.memory else None
        return max(0, now - self.clean_bytes) if now is not None and self.clean_bytes is not None else 0

    def _drain_stderr(self) -> None:
        try:
            while line := self.proc.stderr.readline(4096):
                self._stderr.append(line.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass  # closed under us by close()

    def stderr_tail(self) -> str:
        lines = [ln for ln in self._stderr if "no version information available" not in ln]
        return " | ".join(lines[-6:]) or f"exit status {self.proc.poll()}"

    def _find_jail_pid(self) -> int | None:
        """nsjail's one child is the jail's PID 1; its host pid names the jail's cgroups."""
        try:
            children = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def _read(self, deadline: float) -> tuple[dict, list[bytes]]:
        self.reader.deadline = deadline
        try:
            return read_message(self.reader, self.reply_cap_bytes)
        except TimeoutError:  # an OSError too, but the deadline passing is not a broken channel
            raise
        except (ProtocolError, OSError, RecursionError, ValueError) as exc:
            raise WorkerDied(f"supervisor channel broke ({exc}): {self.stderr_tail()}") from None

    def run(self, job: dict, blobs: list[bytes], deadline_s: float) -> Reply:
        """Send one snippet; TimeoutError if no answer by the backstop deadline."""
        oom_before = self.memory.oom_kills() if self.memory else 0
        base = self.memory.reset_peak() if self.memory else None
        try:
            write_message(self.proc.stdin, job, blobs)
        except OSError as exc:
            raise WorkerDied(f"supervisor is gone ({exc}): {self.stderr_tail()}") from None
        try:
            header, out_blobs = self._read(time.monotonic() + deadline_s)
        finally:
            # Kept on failure too: a snippet that took its supervisor down by OOM is `memory`.
            self.last_oom_kills = (self.memory.oom_kills() - oom_before) if self.memory else 0
        peak = self.memory.peak_bytes() if self.memory and base is not None else None
        peak_mb = max(0.0, (peak - base) / 2**20) if peak is not None else None
        return Reply(header, out_blobs, self.last_oom_kills, peak_mb)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Let the supervisor exit on end-of-input (nsjail then removes the jail's
        cgroups itself); kill the whole process group if it does not, and remove
        whatever cgroups a killed nsjail left behind."""
        self._end(GRACEFUL_EXIT_S)

    def kill(self) -> None:
        """End it at once (say, a render past its deadline), cleaning up as close() does."""
        self._end(0.0)

    def _end(self, grace_s: float) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        self.reader.sel.close()
        if self.memory is not None:
            self.memory.close()
        if self.jail_pid is not None:
            remove_jail_cgroups(self.jail_pid)
