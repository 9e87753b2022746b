"""Read (and tighten) the memory cgroup nsjail made for a jail, from the host.

These are the out-of-band facts behind the `memory` status: the kernel's OOM-kill
counter for the jail, which no snippet can forge. nsjail names the cgroup after the
jail's host pid: v1 `<memory mount>/NSJAIL/NSJAIL.<pid>`, v2 `<mount>/NSJAIL.<pid>`.
"""

from __future__ import annotations

from pathlib import Path

V1_MEMORY = Path("/sys/fs/cgroup/memory")
V2_ROOT = Path("/sys/fs/cgroup")
V1_PARENTS = [Path("/sys/fs/cgroup") / c / "NSJAIL" for c in ("memory", "pids", "cpu")]


def is_v2() -> bool:
    return (V2_ROOT / "cgroup.controllers").exists()


def ensure_parents() -> None:
    """Create the parent cgroups nsjail expects on v1 hosts (idempotent)."""
    if not is_v2():
        for parent in V1_PARENTS:
            parent.mkdir(exist_ok=True)


class JailMemory:
    def __init__(self, jail_pid: int) -> None:
        v1 = V1_MEMORY / "NSJAIL" / f"NSJAIL.{jail_pid}"
        self.v2 = not v1.exists()
        self.dir = V2_ROOT / f"NSJAIL.{jail_pid}" if self.v2 else v1

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

    def reset_peak(self) -> bool:
        return self._write("memory.peak" if self.v2 else "memory.max_usage_in_bytes", "0")

    def peak_bytes(self) -> int | None:
        text = self._read("memory.peak" if self.v2 else "memory.max_usage_in_bytes")
        return int(text) if text else None

    def set_limit(self, limit_bytes: int) -> bool:
        return self._write("memory.max" if self.v2 else "memory.limit_in_bytes", str(limit_bytes))
