"""The jail's shape: uid map, mount tree, /proc, environment, resources."""

from viscode.sandbox import jail_config as jc
from viscode.sandbox.privileges import PRIVATE_PROC

ALLOWED_MOUNTS = {"/", "/usr", "/etc/ld.so.cache", "/etc/fonts", "/etc/localtime", "/etc/passwd", "/etc/group",
                  jc.JAIL_PYTHON_PREFIX, jc.JAIL_SITE_PACKAGES, jc.JAIL_CODE_ROOT,
                  f"{jc.JAIL_CODE_ROOT}/viscode/sandbox", f"{jc.JAIL_CODE_ROOT}/viscode/errors.py", jc.JAIL_FONT_CACHE,
                  PRIVATE_PROC, "/proc/cmdline", "/dev", "/dev/null", "/dev/zero", "/dev/random", "/dev/urandom",
                  "/proc", *jc.SCRATCH_MOUNTS}


def _run_ok(sb, code):
    r = sb.run(code)
    assert r.status == "ok", (r.error_type, r.error_message, r.stderr)
    return r.stdout


def test_outside_uid_is_not_root(warm):
    out = _run_ok(warm, "import os\nprint(open('/proc/self/uid_map').read().split())\nprint(os.getuid(), os.geteuid())")
    uid_map, ids = out.splitlines()
    fields = eval(uid_map)
    outside = {fields[i + 1] for i in range(0, len(fields), 3)}
    assert "0" not in outside
    assert ids == f"{jc.SNIPPET_UID} {jc.SNIPPET_UID}"


def test_snippet_holds_no_capabilities(warm):
    out = _run_ok(warm, "print([l for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm', 'NoNewPrivs', 'Seccomp:'))])")
    caps = dict(line.split(":") for line in eval(out))
    assert int(caps["CapEff"], 16) == 0 and int(caps["CapPrm"], 16) == 0
    assert caps["NoNewPrivs"].strip() == "1" and caps["Seccomp"].strip() == "2"


def test_mount_tree_is_minimal_and_read_only(warm):
    out = _run_ok(warm, "print(open('/proc/self/mountinfo').read())")
    mounts = {}
    for line in out.strip().splitlines():
        fields = line.split()
        mounts[fields[4]] = (fields[5].split(","), line.split(" - ")[1].split()[0])
    assert set(mounts) <= ALLOWED_MOUNTS, set(mounts) - ALLOWED_MOUNTS
    writable = {m for m, (opts, _) in mounts.items() if "rw" in opts}
    assert writable <= set(jc.SCRATCH_MOUNTS) | {"/dev", "/dev/null", "/dev/zero", "/dev/random", "/dev/urandom",
                                                 PRIVATE_PROC}  # that one only the jail's uid 0 can reach
    for scratch in jc.SCRATCH_MOUNTS:
        assert mounts[scratch][1] == "tmpfs"


def test_proc_shows_only_the_jail(warm):
    out = _run_ok(warm, "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid())")
    pids, me = out.rsplit(" ", 1)
    # the supervisor (1), the zygote (2), this snippet, maybe the next snippet's waiting child
    assert {1, 2, int(me)} <= set(eval(pids)) and len(eval(pids)) <= 4


def test_fixed_paths_and_hostname(warm):
    out = _run_ok(warm, "import os, socket\nprint(os.getcwd(), __file__, socket.gethostname(), os.environ['HOME'])")
    assert out.split() == [jc.WORKDIR, "snippet.py", "sandbox", jc.HOME]


def test_network_has_nothing_reachable(warm):
    code = ("import socket\n"
            "for host, port in [('127.0.0.1', 8786), ('127.0.0.1', 8787), ('169.254.169.254', 80), ('8.8.8.8', 53)]:\n"
            "    try:\n"
            "        socket.create_connection((host, port), timeout=1)\n"
            "        print('CONNECTED', host)\n"
            "    except OSError as e:\n"
            "        print('no', host, e.errno)\n"
            "try:\n    socket.getaddrinfo('example.com', 80)\nexcept OSError as e:\n    print('no dns')\n")
    out = _run_ok(warm, code)
    assert "CONNECTED" not in out and "no dns" in out


# Allocates 50 million floats (381 MiB) and burns some CPU; prints what it measured of itself: the
# array's size, how much its own resident memory grew with it, and its own CPU time so far (MiB, s).
MEASURED_SELF = """
import time
import numpy as np
def resident_mb():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS:")).split()[1]) / 1024
before = resident_mb()
x = np.ones(50_000_000)
grown = resident_mb() - before
sum(range(3_000_000))
print(x.nbytes / 2**20, grown, time.process_time())
"""


def test_peak_memory_and_cpu_are_measured(warm):
    """The bounds come from what the snippet measured of itself in the same run, not from a machine's
    figures: the peak covers the array, counted once; the CPU time covers the snippet's own."""
    r = warm.run(MEASURED_SELF)
    assert r.status == "ok", (r.error_type, r.error_message, r.stderr)
    allocated, grown, own_cpu = map(float, r.stdout.split())
    assert grown >= allocated  # the array is resident (np.ones wrote every page)
    assert allocated <= r.peak_memory_mb < 2 * allocated, (allocated, r.peak_memory_mb)
    assert 0 < own_cpu <= r.cpu_s, (own_cpu, r.cpu_s)
