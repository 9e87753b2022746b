"""Process-level controls shared by the in-jail processes: prctl, dropping to the
unprivileged snippet uid, and a place where a snippet's process may raise its own
out-of-memory score before it drops."""

from __future__ import annotations

import ctypes
import os

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36


def prctl(option: int, value: int) -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def fallback_uid() -> int | None:
    """The uid plain-process (un-jailed) snippets and renderers drop to: nobody when we
    are root, else stay as we are."""
    return 65534 if os.geteuid() == 0 else None


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # 0 -> non-zero clears every capability set


# The jail's /proc is read-only, so its processes cannot raise their oom_score_adj there.
# The supervisor mounts a second, writable procfs where only the jail's uid 0 can reach it;
# a snippet's process writes its score through it before dropping to the snippet uid.
PRIVATE_DIR = "/dev/.viscode"  # 0700: the jail's uid 0 alone may enter
PRIVATE_PROC = f"{PRIVATE_DIR}/proc"
JAIL_OOM_SCORE_ADJ = f"{PRIVATE_PROC}/self/oom_score_adj"
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096


def _mount(source: str | None, target: str, fstype: str | None, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    if libc.mount(encode(source), target.encode(), encode(fstype), flags, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source or fstype} on {target}: {os.strerror(err)}")


def prepare_jail_proc() -> None:
    """In the jail, as its uid 0: hide the host's kernel command line behind an empty file,
    and mount the writable procfs, proving our own score can be written there (a limit
    that cannot be applied stops the jail instead of weakening it)."""
    os.mkdir(PRIVATE_DIR, 0o700)
    os.mkdir(PRIVATE_PROC)
    empty = f"{PRIVATE_DIR}/empty"
    with open(empty, "x"):
        pass
    os.chmod(empty, 0o444)
    _mount(empty, "/proc/cmdline", None, MS_BIND)
    _mount(None, "/proc/cmdline", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("proc", PRIVATE_PROC, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    with open(JAIL_OOM_SCORE_ADJ, "r+") as f:
        score = f.read()
        f.seek(0)
        f.write(score)  # the same value: writable, and nothing changed
