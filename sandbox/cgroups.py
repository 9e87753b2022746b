"""Read (and tighten) the memory cgroup nsjail made for a jail, from the host.

These are the out-of-band facts behind the `memory` status: the kernel's OOM-kill
counter for the jail, which no snippet can forge. nsjail names the cgroups after the
jail's host pid: v1 `<controller mount>/NSJAIL/NSJAIL.<pid>`, v2 `<mount>/NSJAIL.<pid>`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

V2_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "pids", "cpu")


def is_v2() -> bool:
    return (V2_ROOT / "cgroup.controllers").exists()


def ensure_parents() -> None:
    """Create the parent cgroups nsjail expects on v1 hosts (idempotent)."""
    if not is_v2():
        for controller in V1_CONTROLLERS:
            (V2_ROOT / controller / "NSJAIL").mkdir(exist_ok=True)


def jail_cgroup_dirs(jail_pid: int) -> list[Path]:
    if is_v2():
        return [V2_ROOT / f"NSJAIL.{jail_pid}"]
    return [V2_ROOT / c / "NSJAIL" / f"NSJAIL.{jail_pid}" for c in V1_CONTROLLERS]


def remove_jail_cgroups(jail_pid: int, wait_s: float = 2.0) -> None:
    """Remove what a killed nsjail could not clean up (v1 keeps empty groups forever,
    and a host runs out of memory cgroups at 65535). Retries while the jail's last
    processes are still dying."""
    end = time.monotonic() + wait_s
    for path in jail_cgroup_dirs(jail_pid):
        while path.exists():
            try:
                path.rmdir()
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > end:
                    break
                time.sleep(0.01)


def _host_has_swap() -> bool:
    for line in open("/proc/meminfo"):
        if line.startswith("SwapTotal:"):
            return int(line.split()[1]) > 0
    return False


class JailMemory:
    def __init__(self, directory: Path, v2: bool) -> None:
        self.dir, self.v2 = directory, v2
        self._peak_fd: int | None = None
        if v2:  # v2 resets memory.peak per open file: keep one open to reset and read it
            try:
                self._peak_fd = os.open(directory / "memory.peak", os.O_RDWR)
            except OSError:
                self._peak_fd = None

    @classmethod
    def of(cls, jail_pid: int) -> JailMemory | None:
        v2 = is_v2()
        directory = V2_ROOT / f"NSJAIL.{jail_pid}" if v2 else V2_ROOT / "memory" / "NSJAIL" / f"NSJAIL.{jail_pid}"
        return cls(directory, v2) if directory.is_dir() else None

    def _read(self, name: str) -> str | None:
        try:
            return (self.dir / name).read_text()
        except OSError:
            return None

    def _write(self, name: str, value: str) -> bool:
        try:
            (self.dir / name).write_text(value)
            return True
        except OSError:
            return False

    def oom_kills(self) -> int:
        text = self._read("memory.events" if self.v2 else "memory.oom_control") or ""
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def usage_bytes(self) -> int | None:
        text = self._read("memory.current" if self.v2 else "memory.usage_in_bytes")
        return int(text) if text else None

    def unreclaimable_bytes(self) -> int | None:
        """Usage less the page cache the kernel can drop at will: what processes, tmpfs
        and IPC objects hold. A jail back at its clean level shows its clean value here."""
        usage, stat = self.usage_bytes(), self._read("memory.stat")
        if usage is None or stat is None:
            return None
        fields = dict(line.split() for line in stat.splitlines() if line.count(" ") == 1)
        names = ("file",) if self.v2 else ("active_file", "inactive_file")
        return usage - sum(int(fields.get(name, 0)) for name in names)

    def reset_peak(self) -> int | None:
        """Restart peak tracking; returns the usage it starts from, or None if the
        kernel cannot reset it (peak memory then falls back to the snippet's max RSS)."""
        if self.v2:
            if self._peak_fd is None:
                return None
            try:
                os.write(self._peak_fd, b"reset\n")
            except OSError:
                return None
        elif not self._write("memory.max_usage_in_bytes", "0"):
            return None
        return self.usage_bytes()

    def peak_bytes(self) -> int | None:
        if self.v2:
            if self._peak_fd is None:
                return None
            text = os.pread(self._peak_fd, 64, 0).decode()
        else:
            text = self._read("memory.max_usage_in_bytes")
        return int(text) if text else None

    def set_limit(self, limit_bytes: int) -> None:
        """Memory and swap together, so a snippet cannot page its way past the limit. Raises
        OSError when the limit cannot be applied: a weaker jail is never run silently."""
        memory, swap = ("memory.max", "memory.swap.max") if self.v2 else \
            ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes")
        if not self._write(memory, str(limit_bytes)):
            raise OSError(f"cannot write {self.dir / memory}")
        applied = self._read(memory)
        if applied is None or not applied.strip().isdigit() or abs(int(applied) - limit_bytes) >= 1 << 16:
            raise OSError(f"{self.dir / memory} reads {applied!r} after writing {limit_bytes}")
        if (self.dir / swap).exists():
            # v2: no swap for the jail at all; v1: memory+swap under the same limit
            if not self._write(swap, "0" if self.v2 else str(limit_bytes)):
                raise OSError(f"cannot write {self.dir / swap}")
        elif _host_has_swap():
            raise OSError(f"the host has swap but {self.dir} has no {swap} to limit it (boot with swapaccount=1)")

    def close(self) -> None:
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None
