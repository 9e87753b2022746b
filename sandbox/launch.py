"""Start nsjail in a private mount namespace with the runtime re-bound under a stage.

The Python runtime and site-packages may live under paths the jail's unprivileged
uid cannot traverse (a pyenv under /root, a checkout in a 0700 home). Binding them
under a world-traversable stage, in a mount namespace of our own, lets nsjail mount
them without loosening any permission on the host and without touching the host's
mount table. Run as a script (`python -I -S launch.py SPEC`) so it starts fast.
"""

import ctypes
import json
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(src, dst, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    if _libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src!r} on {dst!r}: {os.strerror(err)}")


def main() -> None:
    spec = json.loads(sys.argv[1])
    stage = spec["stage"]
    os.unshare(os.CLONE_NEWNS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("viscode-stage", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    for name, content in spec.get("files", {}).items():
        path = os.path.join(stage, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
    for name, src in spec["binds"].items():
        dst = os.path.join(stage, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.isdir(src):
            os.mkdir(dst)
        else:
            open(dst, "wb").close()
        _mount(src, dst, None, MS_BIND | MS_REC)
        _mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.execv(spec["argv"][0], spec["argv"])


if __name__ == "__main__":
    main()
