"""Per-snippet writable space, fresh for every snippet, and safe collection of the
image files a snippet leaves there.

In a jail the supervisor mounts new size-capped tmpfs over the working dir, /tmp,
/dev/shm and HOME (which holds MPLCONFIGDIR) after each snippet, before the next one's
process is sent there, so nothing one snippet writes (a marker, a poisoned font cache)
reaches the next; the next snippet's data files are placed with its code. The
plain-process fallback uses fresh temporary directories instead.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass

MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2
_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


@dataclass
class Scratch:
    """Where the snippet may write. `dirs` maps role (work, tmp, shm, home) to path."""

    dirs: dict[str, str]
    size_mb: int
    owner: int | None
    font_cache: str
    root: str | None = None  # where DirScratch makes its directories
    mplconfig_subdir: str = ".matplotlib"

    @property
    def workdir(self) -> str:
        return self.dirs["work"]

    @property
    def mplconfigdir(self) -> str:
        return os.path.join(self.dirs["home"], self.mplconfig_subdir)

    def _populate(self) -> None:
        shutil.copytree(self.font_cache, self.mplconfigdir, dirs_exist_ok=True)
        if self.owner is not None:
            for root in self.dirs.values():
                for dirpath, dirnames, filenames in os.walk(root):
                    for entry in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                        os.lchown(entry, self.owner, self.owner)

    def place(self, files: dict[str, bytes]) -> None:
        """The snippet's data files, in its fresh working dir, owned by it."""
        for name, data in files.items():
            path = os.path.join(self.workdir, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if self.owner is not None:
                os.lchown(path, self.owner, self.owner)


class TmpfsScratch(Scratch):
    """Fresh tmpfs mounts (inside a jail, where the supervisor holds CAP_SYS_ADMIN
    over its own mount namespace)."""

    def reset(self) -> None:
        owner = self.owner if self.owner is not None else 0
        for path in self.dirs.values():
            _check(_libc.umount2(path.encode(), MNT_DETACH), f"unmount {path}")
            opts = f"size={self.size_mb}m,nr_inodes=4096,mode=0700,uid={owner},gid={owner}"
            _check(_libc.mount(b"scratch", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts.encode()),
                   f"mount tmpfs on {path}")
        self._populate()


class DirScratch(Scratch):
    """Fresh temporary directories under a private base (plain-process fallback). Not
    size-capped: that needs the tmpfs mounts only a jail provides."""

    def reset(self) -> None:
        self.cleanup()
        base = tempfile.mkdtemp(prefix="viscode-snippet-", dir=self.root)
        os.chmod(base, 0o755)
        for role in ("work", "tmp", "shm", "home"):
            os.mkdir(os.path.join(base, role), 0o700)
            self.dirs[role] = os.path.join(base, role)
        self._populate()

    def cleanup(self) -> None:
        if self.dirs:
            shutil.rmtree(os.path.dirname(self.dirs["work"]), ignore_errors=True)


def collect_image_files(root: str, *, skip: set[str], max_files: int, max_bytes: int,
                        suffixes: tuple[str, ...] = (".png",), max_depth: int = 3) -> list[tuple[str, bytes]]:
    """Regular files with these suffixes under root, by sorted relative path: no symlinks,
    devices or FIFOs, nothing deeper than max_depth, nothing over max_bytes (checked on
    the size and again on the bytes read, so sparse files cannot lie)."""
    found: list[tuple[str, bytes]] = []

    def walk(directory: str, rel: str, depth: int) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            if len(found) >= max_files:
                return
            path, relpath = os.path.join(directory, name), f"{rel}{name}"
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and depth < max_depth:
                walk(path, relpath + "/", depth + 1)
            elif (stat.S_ISREG(st.st_mode) and relpath not in skip and st.st_size <= max_bytes
                  and name.lower().endswith(suffixes)):
                data = _read_regular(path, max_bytes)
                if data is not None:
                    found.append((relpath, data))

    walk(root, "", 0)
    return found


def _read_regular(path: str, max_bytes: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = f.read(max_bytes + 1)
    return data if len(data) <= max_bytes else None
