"""Nothing of one snippet reaches the next in a warm sandbox, and every limit holds.
Each class of attack runs, then a companion snippet that must run clean in the same
sandbox. The attacks only ever run inside the nsjail sandbox."""

import uuid
import zlib

import pytest

from .conftest import assert_still_works
from .png_helpers import EMPTY_IDAT, IEND, crafted_png


def _run_ok(sb, code, **kw):
    r = sb.run(code, **kw)
    assert r.status == "ok", (r.status, r.error_type, r.error_message, r.stderr[-2000:])
    return r


# What a snippet finds by reading its own memory: every private writable mapping (the heap,
# arenas, stacks), searched for any marker of the shape the earlier snippet used. The scan
# holds only the pattern, never a marker, so whatever it finds came from elsewhere.
MEMORY_SCAN = """
import ctypes, re
pattern = re.compile(rb'viscode-(?:code|out|data)-[0-9a-f]{32}')
found, window, overlap = set(), 16 << 20, 256
for line in open('/proc/self/maps').read().splitlines():
    fields = line.split()
    if fields[1] != 'rw-p':
        continue
    start, end = (int(x, 16) for x in fields[0].split('-'))
    for at in range(start, end, window):
        found.update(m.decode() for m in pattern.findall(ctypes.string_at(at, min(window + overlap, end - at))))
print('FOUND', sorted(found))
"""


def test_the_previous_snippet_is_not_in_the_next_ones_memory(warm):
    markers = [f"viscode-{kind}-{uuid.uuid4().hex}" for kind in ("code", "out", "data")]
    code_marker, output_marker, data_marker = markers
    _run_ok(warm, f"secret = {code_marker!r}\nprint({output_marker!r})\nprint(open('d.txt').read())",
            files={"d.txt": data_marker.encode() * 64})
    found = _run_ok(warm, MEMORY_SCAN).stdout
    assert found.startswith("FOUND") and not any(marker in found for marker in markers), found


IPC_LEFTOVERS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget(0x5eed, 150 << 20, 0o1666)       # IPC_CREAT, left attached to nobody
address = libc.shmat(shm, None, 0)
ctypes.memset(address, 1, 150 << 20)               # 150 MB charged to the jail
libc.shmdt(ctypes.c_void_p(address))
libc.msgget(0x5eed, 0o1666)
libc.semget(0x5eed, 1, 0o1666)
rt = ctypes.CDLL('librt.so.1', use_errno=True)
rt.mq_open(b'/viscode-left', os.O_CREAT | os.O_RDWR, 0o666, None)
print('made', shm >= 0)
"""
IPC_CHECK = """
import ctypes, os
rows = {kind: open(f'/proc/sysvipc/{kind}').read().splitlines()[1:] for kind in ('shm', 'msg', 'sem')}
rt = ctypes.CDLL('librt.so.1', use_errno=True)
print('LEFT', {k: len(v) for k, v in rows.items()}, rt.mq_open(b'/viscode-left', os.O_RDWR, 0, None))
"""
WORKLOAD = "buffer = bytearray(300 << 20)\nfor i in range(0, len(buffer), 4096):\n    buffer[i] = 1\nprint('done')"


def test_ipc_objects_die_with_their_snippet(warm):
    before = warm.run(WORKLOAD).status
    assert _run_ok(warm, IPC_LEFTOVERS).stdout.strip() == "made True"
    assert _run_ok(warm, IPC_CHECK).stdout.strip() == "LEFT {'shm': 0, 'msg': 0, 'sem': 0} -1"
    assert warm.run(WORKLOAD).status == before == "ok"  # the same workload, the same outcome
    assert warm._worker.left_over_bytes() < 32 << 20


FONT_ATTACK = """
import fcntl, os
touched = 0
for fd in range(3, 250):
    try:
        if not os.path.isfile(f'/proc/self/fd/{fd}'):
            continue
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_DIRECT)
        os.lseek(fd, 12345, os.SEEK_SET)
        touched += 1
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass
print('touched', touched)
"""
FONT_CHECK = """
import fcntl, os
shared = []
for fd in range(3, 250):
    if os.path.isfile(f'/proc/self/fd/{fd}'):
        shared.append((bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT), os.lseek(fd, 0, os.SEEK_CUR)))
print('fonts', len(shared), any(direct or offset for direct, offset in shared))
import matplotlib.pyplot as plt
plt.plot([1, 2]); plt.title('text still draws'); plt.xlabel('x')
"""


def test_inherited_font_files_are_private_to_each_snippet(warm):
    assert int(_run_ok(warm, FONT_ATTACK).stdout.split()[-1]) > 0
    r = _run_ok(warm, FONT_CHECK)
    assert r.stdout.split()[-1] == "False" and int(r.stdout.split()[-2]) > 0, r.stdout
    assert len(r.images) == 1 and r.images[0].artists >= 1
    assert_still_works(warm)


SOCKETS = """
import socket
out = []
for family, kind in ((socket.AF_UNIX, socket.SOCK_STREAM), (socket.AF_INET, socket.SOCK_STREAM),
                     (socket.AF_INET6, socket.SOCK_STREAM), (socket.AF_NETLINK, socket.SOCK_RAW),
                     (40, socket.SOCK_STREAM), (socket.AF_PACKET, socket.SOCK_RAW),  # AF_VSOCK, AF_PACKET
                     (38, socket.SOCK_SEQPACKET), (44, socket.SOCK_RAW)):           # AF_ALG, AF_XDP
    try:
        socket.socket(family, kind).close()
        out.append('ok')
    except OSError as exc:
        out.append(exc.errno)
print(out)
a, b = socket.socketpair()
print('pair ok')
"""


def test_only_the_socket_families_plotting_code_uses(warm):
    r = _run_ok(warm, SOCKETS)
    unix, inet, inet6, netlink, vsock, packet, alg, xdp = eval(r.stdout.splitlines()[0])
    assert [unix, inet, inet6, netlink] == ["ok"] * 4
    assert vsock == packet == alg == xdp == 97  # EAFNOSUPPORT
    assert r.stdout.splitlines()[1] == "pair ok"


def test_snippets_are_first_to_go_under_memory_pressure_and_see_no_host_cmdline(warm):
    r = _run_ok(warm, "import os\nprint(open('/proc/self/oom_score_adj').read().strip())\n"
                      "print(repr(open('/proc/cmdline').read()))\n"
                      "try:\n    os.listdir('/dev/.viscode/proc')\nexcept PermissionError:\n    print('private')")
    assert r.stdout.split() == ["1000", "''", "private"]  # the writable procfs is the jail uid 0's alone


@pytest.mark.parametrize("name, png, kept", [
    ("header-only.png", crafted_png(2147483647, 2147483647), False),
    ("too-many-pixels.png",  # 512 MB decoded
     crafted_png(8000, 8000, zlib.compress(b"\0" * 4096), bit_depth=16, colour_type=0), False),
    ("lies.png", crafted_png(64, 64, zlib.compress(b"\0" * (10 * 257))), False),
    ("fine.png", crafted_png(64, 64, zlib.compress(b"\0" * (64 * 257))), True),
], ids=lambda value: value if isinstance(value, str) else "")
def test_images_must_be_what_their_header_says_and_within_the_cap(warm, name, png, kept):
    r = _run_ok(warm, f"open({name!r}, 'wb').write(bytes.fromhex({png.hex()!r}))")
    assert [i.name for i in r.images] == ([name] if kept else [])


def test_a_png_of_millions_of_chunks_is_dropped_not_a_crash(warm):
    head = crafted_png(16, 16, zlib.compress(b"\0" * (16 * 65)))[:-len(IEND)]
    r = _run_ok(warm, f"""
head, empty, tail = (bytes.fromhex(part) for part in {[head.hex(), EMPTY_IDAT.hex(), IEND.hex()]!r})
open('chunks.png', 'wb').write(head + empty * 2_600_000 + tail)  # 31 MB, all valid chunks""")
    assert r.images == []
    assert_still_works(warm)


@pytest.mark.parametrize("layout", [
    "width=9000, height=9000",
    "template=dict(layout=dict(width=9000, height=9000))",  # kaleido falls back to the template's size
    "width=700, template=dict(layout=dict(height=90000))",
])
def test_a_plotly_canvas_over_the_cap_is_not_drawn(warm, layout):
    renderer = warm._renderer.worker
    r = _run_ok(warm, "import plotly.graph_objects as go\nfig = go.Figure(go.Bar(x=['a'], y=[1]))\n"
                      f"fig.update_layout({layout})\nfig.show()")
    assert "over the 40000000-pixel cap" in r.images[0].render_error and r.images[0].spec
    assert warm._renderer.worker is renderer  # nothing was sent to Chrome, nothing replaced


def test_a_plotly_figure_is_drawn_at_the_size_that_was_checked(warm):
    r = _run_ok(warm, "import plotly.graph_objects as go\nfig = go.Figure(go.Bar(x=['a'], y=[1]))\n"
                      "fig.update_layout(template=dict(layout=dict(width=640, height=360)))\nfig.show()")
    assert (r.images[0].width, r.images[0].height) == (640, 360)


HOST_SHARED_POOLS = """
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
rt = ctypes.CDLL('librt.so.1', use_errno=True)
inotify = libc.inotify_init1(0), ctypes.get_errno()
queue = rt.mq_open(b'/viscode-q', os.O_CREAT | os.O_RDWR, 0o600, None), ctypes.get_errno()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGRTMIN})
queued = 0
class Value(ctypes.Union):
    _fields_ = [("i", ctypes.c_int)]
while queued < 100_000 and libc.sigqueue(os.getpid(), signal.SIGRTMIN, Value(1)) == 0:
    queued += 1
print([inotify, queue, queued])
"""


def test_no_snippet_can_drain_what_the_jail_shares_with_host_root(warm):
    """The jail's user namespace belongs to host root, so per-user pools (inotify instances,
    message-queue bytes, queued signals) are counted against root's: a snippet gets none
    or a few, never enough to starve the host."""
    r = _run_ok(warm, HOST_SHARED_POOLS)
    inotify, queue, queued = eval(r.stdout)
    assert inotify == (-1, 1) and queue[0] == -1 and 0 < queued <= 64, r.stdout
    assert_still_works(warm)
