"""A long-lived plotly renderer: figure JSON in, PNG out, one Chrome kept warm.

Starting Chrome costs seconds, so snippets never start it: they hand over figure
JSON (see capture.py) and this server, jailed like a snippet and running as the
unprivileged snippet uid, renders it with kaleido's persistent sync server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys

from .privileges import PR_SET_PDEATHSIG, drop_privileges, prctl
from .protocol import ProtocolError, read_message, take_stdio, write_message
from .scratch import DirScratch, TmpfsScratch

MAX_SPEC_BYTES = 64 * 1024 * 1024


def main() -> None:
    cfg = json.loads(sys.argv[1])
    requests, replies = take_stdio()
    kind = TmpfsScratch if cfg["isolation"] == "nsjail" else DirScratch
    scratch = kind(dict(cfg.get("scratch_dirs", {})), 256, cfg["uid"], cfg["font_cache"], root=cfg.get("scratch_root"))
    scratch.reset()
    os.environ.update(HOME=scratch.dirs["home"], TMPDIR=scratch.dirs["tmp"], MPLCONFIGDIR=scratch.mplconfigdir)
    # Imported while we may still read the runtime: un-jailed, the unprivileged uid may not
    # be able to (a pyenv under /root).
    import kaleido

    if cfg["uid"] is not None:
        drop_privileges(cfg["uid"])
        # Changing uid clears the parent-death signal nsjail set: restore it, or this
        # server (and its Chrome) would outlive a killed nsjail.
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # Debian's /usr/bin/chromium is a shell wrapper that reads /etc/chromium.d (not in
    # the jail); the binary behind it runs fine on its own.
    browser = next((p for p in ("/usr/lib/chromium/chromium",) if os.access(p, os.X_OK)), None) or \
        shutil.which("chromium") or shutil.which("google-chrome")
    if browser is None:
        write_message(replies, {"ready": False, "error": "no Chrome/Chromium found (set-up installs chromium)"})
        return
    os.environ["BROWSER_PATH"] = browser
    kaleido.start_sync_server(n=1, timeout=cfg["timeout_s"], mathjax=False, silence_warnings=True)
    write_message(replies, {"ready": True})
    while True:
        try:
            header, blobs = read_message(requests, MAX_SPEC_BYTES)
        except ProtocolError:
            break
        try:
            size = {key: header[key] for key in ("width", "height") if key in header}  # overrides the figure's own
            png = kaleido.calc_fig_sync(json.loads(blobs[0]), opts={"format": "png", **size})
            write_message(replies, {"ok": True}, [bytes(png)])
        except Exception as exc:  # a figure that will not render is a result, not a crash
            write_message(replies, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]})
    kaleido.stop_sync_server(silence_warnings=True)
