"""The zygote: the warm interpreter every snippet's process is forked from.

It never reads a job or an answer. The supervisor (the jail's PID 1) asks it for a child
over a unix socket and gets the child's pipes back; it hands the child its code and data
and reads the child's output itself. So the memory a snippet's process starts from holds
the warm plotting stack and nothing of any other snippet: no code, no data files, no
output. As the parent of every such process, the zygote reports each one's stops and exit
(with its resource usage) to the supervisor.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import traceback
from typing import TYPE_CHECKING, NoReturn

from . import child
from .privileges import JAIL_OOM_SCORE_ADJ, PR_SET_PDEATHSIG, prctl

if TYPE_CHECKING:
    from .supervisor import SupervisorConfig

# The supervisor's ends of a child's pipes, in this order, passed with each "forked" message.
CHILD_FDS = ("stdout", "stderr", "report", "job")


def sigchld_wakeup() -> int:
    """A pipe that becomes readable whenever a child changes state."""
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    return r


def drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def send(sock: socket.socket, message: dict, fds: list[int] = ()) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.send(data)


def receive(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """One message and the descriptors that came with it; (None, []) once the peer is gone."""
    data, fds, _, _ = socket.recv_fds(sock, 65536, len(CHILD_FDS))
    return (json.loads(data) if data else None), fds


def spawn(cfg: SupervisorConfig) -> tuple[int, list[int]]:
    """Fork one snippet's process, waiting for its job (see child.run); returns its pid and
    the supervisor's ends of its pipes (CHILD_FDS)."""
    pipes = {name: os.pipe() for name in CHILD_FDS}
    jailed = cfg.isolation == "nsjail"
    data_limit = (_vm_data_bytes() + cfg.data_limit_mb * 2**20) if cfg.data_limit_mb else None
    spec = child.ChildSpec(limits=cfg.limits, uid=cfg.snippet_uid, data_limit_bytes=data_limit, own_ipc=jailed,
                           oom_score_adj=JAIL_OOM_SCORE_ADJ if jailed else "/proc/self/oom_score_adj")
    pid = os.fork()
    if pid == 0:
        child.run(spec, pipes["stdout"][1], pipes["stderr"][1], pipes["report"][1], pipes["job"][0])
    theirs = []
    for name, (r, w) in pipes.items():
        os.close(r if name == "job" else w)
        theirs.append(w if name == "job" else r)
    return pid, theirs


def _vm_data_bytes() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return 0


def _report_children(control: socket.socket) -> None:
    """Every change of state of our children since the last wake-up: stops and
    continues as they happen, exits with their resource usage (reaped here)."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG | os.WUNTRACED | os.WCONTINUED)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if os.WIFSTOPPED(status):
            send(control, {"op": "stopped", "pid": pid})
        elif os.WIFCONTINUED(status):
            send(control, {"op": "continued", "pid": pid})
        else:
            send(control, {"op": "exited", "pid": pid, "status": status,
                           "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024})


def serve(cfg: SupervisorConfig, control: socket.socket) -> NoReturn:
    """The zygote's life, in the process the supervisor forked: warm up (warm mode), then
    fork a child per request and report on the children until the supervisor goes."""
    try:
        os.chdir("/")  # pin no scratch mount
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if cfg.isolation == "process":
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # in a jail, the supervisor's death ends us anyway
        wakeup = sigchld_wakeup()
        preloaded: list[str] = []
        if cfg.mode == "warm":
            from .warmup import warm_up

            preloaded = warm_up()
        send(control, {"op": "ready", "preloaded": preloaded})
        sel = selectors.DefaultSelector()
        sel.register(control, selectors.EVENT_READ, "control")
        sel.register(wakeup, selectors.EVENT_READ, "sigchld")
        while True:
            for key, _ in sel.select():
                if key.data == "sigchld":
                    drain(wakeup)
                    _report_children(control)
                    continue
                message, _ = receive(control)
                if message is None:
                    os._exit(0)  # the supervisor is done
                if message.get("op") == "fork":
                    pid, fds = spawn(cfg)
                    send(control, {"op": "forked", "pid": pid}, fds)
                    for fd in fds:
                        os.close(fd)
    except BaseException:  # our own failure: say so; the supervisor sees us gone
        traceback.print_exc()
    finally:
        os._exit(1)
