"""Process-level controls shared by the in-jail processes: prctl and dropping to the
unprivileged snippet uid."""

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
