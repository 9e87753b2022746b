"""Hostile snippets (issue: 'Bad input'): each gets a defined status, loses nothing,
and the next snippet still works. They only ever run inside the nsjail sandbox."""

import os
import socket
import time

import psutil
import pytest
from viscode.sandbox import jail_config as jc

from .conftest import assert_still_works

SNIPPET_OUTSIDE_UID = jc.OUTSIDE_UID_BASE + 1
# Every process in the jail but PID 1 (the supervisor), 2 (the zygote) and the zygote's own
# children (this snippet's process and the next one's, waiting): none may be left over.
LEFT_OVER = ("import os\n"
             "def parent(pid):\n"
             "    return int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])\n"
             "pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]\n"
             "print([p for p in pids if p not in (1, 2) and parent(p) != 2])")


def snippet_processes_on_host(sb) -> list[int]:
    """Live host processes of this sandbox's snippet jail running as the snippets' outside
    uid: none may remain once a result is back (the next snippet's pre-forked child still
    runs as the supervisor; the plotly renderer is a jail of its own)."""
    alive = []
    for process in psutil.Process(sb._worker.proc.pid).children(recursive=True):
        try:
            if process.uids().real == SNIPPET_OUTSIDE_UID and process.status() not in (
                    psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                alive.append(process.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_fork_bomb(warm):
    start = time.monotonic()
    r = warm.run("import os\nwhile True:\n    os.fork()")
    assert r.status in ("error", "killed", "timeout") and time.monotonic() - start < 6
    assert snippet_processes_on_host(warm) == []
    assert_still_works(warm)


def test_thread_bomb(warm):
    r = warm.run("import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,)).start()")
    assert r.status == "error" and r.error_type == "RuntimeError"
    assert_still_works(warm)


def test_memory_bomb(warm):
    r = warm.run("x = []\nwhile True:\n    x.append(bytearray(1 << 24))")
    assert r.status == "memory" and r.error_type == "MemoryLimit"
    assert_still_works(warm)


def test_huge_numpy_allocation(warm):
    r = warm.run("import numpy as np\nnp.ones((60000, 60000))")
    assert r.status == "memory"
    assert_still_works(warm)


def test_busy_loop(warm):
    r = warm.run("while True:\n    pass")
    assert r.status == "timeout" and r.duration_s < warm.limits.timeout_s + 1
    assert_still_works(warm)


def test_long_sleep(warm):
    r = warm.run("import time\ntime.sleep(10 ** 9)")
    assert r.status == "timeout" and r.error_type == "Timeout" and r.duration_s < warm.limits.timeout_s + 1
    assert_still_works(warm)


def test_sigterm_ignored(warm):
    r = warm.run("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass")
    assert r.status == "timeout"
    assert r.duration_s < warm.limits.timeout_s + warm.limits.kill_grace_s + 0.5
    assert_still_works(warm)


def test_stdout_flood(warm):
    start = time.monotonic()
    r = warm.run("while True:\n    print('x' * 1000)")
    assert r.status == "killed" and r.error_type == "OutputLimitExceeded" and r.stdout_truncated
    assert len(r.stdout) <= warm.limits.max_output_bytes + 100 and time.monotonic() - start < 3
    assert_still_works(warm)


def test_stderr_flood_with_bad_bytes(warm):
    r = warm.run("import sys\nfor _ in range(3000):\n    sys.stderr.buffer.write(b'\\xff\\x00' * 500)\nprint('done')")
    assert r.status == "ok" and r.stderr_truncated and "\\xff\\x00" in r.stderr
    assert_still_works(warm)


def test_disk_fill(warm):
    shm_before = os.statvfs("/dev/shm").f_bfree
    for path in ("/work/fill", "/dev/shm/fill", "/tmp/fill"):
        r = warm.run(f"i = 0\nwhile True:\n    open(f'{path}{{i}}', 'wb').write(b'0' * (8 << 20))\n    i += 1")
        assert r.status == "error" and "No space left on device" in r.error_message, (path, r.error_message)
    assert abs(os.statvfs("/dev/shm").f_bfree - shm_before) < 1024
    assert_still_works(warm)


def test_host_loopback_service_unreachable(warm):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        r = warm.run(f"import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', {port}))")
        assert r.status == "error" and r.error_type == "ConnectionRefusedError"
        with pytest.raises(socket.timeout):
            server.accept()
        r = warm.run("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)")
        assert r.status == "error" and r.error_type == "OSError" and "unreachable" in r.error_message
    finally:
        server.close()


def test_host_files_and_secrets_unreadable(warm, tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    secret.chmod(0o600)
    monkeypatch.setenv("VISCODE_TEST_SECRET", "hunter2")
    code = (
        "import os\n"
        f"paths = [{str(secret)!r}, '/etc/shadow', '/root/.ssh/id_rsa', '/proc/1/environ', '/proc/1/mem',\n"
        "         '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/work/main/pyproject.toml', '/home']\n"
        "for p in paths:\n"
        "    try:\n"
        "        open(p, 'rb').read(10)\n"
        "        print('READ', p)\n"
        "    except OSError as e:\n"
        "        print('denied', p, type(e).__name__)\n"
        "print(sorted(os.environ))\n"
    )
    r = warm.run(code)
    assert r.status == "ok" and not any(line.startswith("READ") for line in r.stdout.splitlines())
    assert "hunter2" not in r.stdout and "VISCODE_TEST_SECRET" not in r.stdout
    env_keys = eval(r.stdout.strip().splitlines()[-1])
    assert set(env_keys) <= set(jc.ENV_ALLOWLIST) | {"TMPDIR"}


def test_writes_outside_workdir_fail(warm):
    code = (
        "for p in ['/x', '/usr/x', '/etc/passwd', '/opt/site-packages/x', '/opt/viscode/viscode/x', '/dev/x']:\n"
        "    try:\n"
        "        open(p, 'w').write('x')\n"
        "        print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('denied', p, e.errno)\n"
    )
    r = warm.run(code)
    assert r.status == "ok" and "WROTE" not in r.stdout and r.stdout.count("denied") == 6


@pytest.mark.parametrize("code", [
    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    "import os, signal\nos.kill(1, signal.SIGKILL)",
    "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept ProcessLookupError:\n    pass\nprint('survived')",
    "import os, signal\nos.killpg(0, signal.SIGKILL)",
])
def test_killing_parent_or_everything(warm, code):
    supervisor = warm._worker
    r = warm.run(code)
    assert r.status in ("ok", "error", "killed"), r.status
    assert warm._worker is supervisor and supervisor.alive()  # protected, not even replaced
    assert_still_works(warm)


def test_segfault(warm):
    r = warm.run("import ctypes\nctypes.string_at(0)")
    assert (r.status, r.error_type, r.signal) == ("crashed", "SIGSEGV", 11)
    assert_still_works(warm)


def test_daemon_does_not_outlive_the_snippet(warm):
    r = warm.run("import os, time\n"
                 "if os.fork() == 0:\n"
                 "    os.setsid()\n"
                 "    if os.fork() == 0:\n"
                 "        time.sleep(1000)\n"
                 "    os._exit(0)\n"
                 "import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)\nprint('spawned')")
    assert r.status == "ok" and r.stdout == "spawned\n"
    assert snippet_processes_on_host(warm) == []
    assert warm.run(LEFT_OVER).stdout == "[]\n"


def test_stdin_is_closed(warm):
    r = warm.run("input()")
    assert r.status == "error" and r.error_type == "EOFError"
    r = warm.run("import sys\nprint(repr(sys.stdin.read()))")
    assert r.stdout == "''\n"


def test_gigantic_figure(warm):
    r = warm.run("import matplotlib.pyplot as plt\nplt.figure(figsize=(1000, 1000))\nplt.plot([1, 2])")
    assert r.status in ("error", "memory") and r.duration_s < warm.limits.timeout_s + 1
    assert_still_works(warm)


def test_closing_own_stdout_and_stderr(warm):
    r = warm.run("import os, matplotlib.pyplot as plt\nprint('before')\nos.close(1)\nos.close(2)\nplt.plot([1, 2])")
    assert r.status == "ok" and r.stdout == "before\n" and len(r.images) == 1
    assert_still_works(warm)


def test_nothing_persists_between_snippets(warm):
    poison = (
        "import glob, os\n"
        "for d in ['/work', '/tmp', '/dev/shm', os.environ['HOME']]:\n"
        "    open(os.path.join(d, 'marker'), 'w').write('x')\n"
        "for f in glob.glob(os.path.join(os.environ['MPLCONFIGDIR'], 'fontlist-*.json')):\n"
        "    open(f, 'w').write('{not json')\n"
        "open(os.path.join(os.environ['MPLCONFIGDIR'], 'matplotlibrc'), 'w').write('lines.linewidth: 40\\n')\n"
        "open('matplotlib.py', 'w').write('raise SystemExit(9)')\n"
    )
    assert warm.run(poison).status == "ok"
    check = (
        "import glob, json, os\n"
        "print([d for d in ['/work', '/tmp', '/dev/shm', os.environ['HOME']] if os.path.exists(os.path.join(d, 'marker'))])\n"
        "print(os.listdir('/work'), os.path.exists(os.path.join(os.environ['MPLCONFIGDIR'], 'matplotlibrc')))\n"
        "for f in glob.glob(os.path.join(os.environ['MPLCONFIGDIR'], 'fontlist-*.json')):\n"
        "    json.load(open(f))\n"
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint(plt.rcParams['lines.linewidth'])\n"
    )
    r = warm.run(check)
    assert r.status == "ok" and r.stdout == "[]\n[] False\n1.5\n" and r.stderr == ""
    assert len(r.images) == 1


def test_namespace_escapes_are_denied(warm):
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "for name, call in [('unshare', lambda: libc.unshare(0x10000000)),\n"
        "                   ('ptrace', lambda: libc.ptrace(16, 1, 0, 0)),\n"
        "                   ('mount', lambda: libc.mount(b'none', b'/work', b'tmpfs', 0, None)),\n"
        "                   ('setuid', lambda: libc.setuid(0))]:\n"
        "    print(name, call(), ctypes.get_errno())\n"
    )
    r = warm.run(code)
    assert r.status == "ok"
    assert r.stdout.splitlines() == ["unshare -1 1", "ptrace -1 1", "mount -1 1", "setuid -1 1"]


def test_symlinked_and_special_output_files_are_not_collected(warm):
    r = warm.run("import os\n"
                 "os.symlink('/etc/passwd', 'out.png')\n"
                 "os.symlink('/proc/1/environ', 'env.png')\n"
                 "os.mkfifo('pipe.png')\n"
                 "os.makedirs('a/b/c/d/e')\n"
                 "open('fake.png', 'wb').write(b'not a png')\n"
                 "import matplotlib.pyplot as plt\nplt.plot([1])\nplt.savefig('a/b/c/d/e/deep.png')\nplt.close('all')\n")
    assert r.status == "ok" and r.images == []


def test_forged_reports_cannot_break_the_supervisor(warm):
    supervisor = warm._worker
    forged = ("import os, json, struct\n"
              "deep = ('[' * 100000 + ']' * 100000).encode()\n"
              "os.write(255, struct.pack('>I', len(deep)) + deep)\n"
              "os._exit(0)\n")
    r = warm.run(forged)
    assert r.status == "ok" and r.images == []
    typed = ("import os, json, struct\n"
             "h = json.dumps({'exit_code': 0, 'error_type': {'x': 1}, 'error_message': '\\udcff' * 9000,"
             " 'images': [{'source': 'matplotlib', 'kind': 'png', 'name': 5}], 'blobs': [3]}).encode()\n"
             "os.write(255, struct.pack('>I', len(h)) + h + b'abc')\n"
             "os._exit(0)\n")
    r = warm.run(typed)
    assert r.status == "error" and r.error_type == "{'x': 1}" and len(r.error_message) == 4000
    assert r.images == []  # b'abc' is no PNG
    assert warm._worker is supervisor
    assert_still_works(warm)


def test_a_huge_forged_report_header_costs_the_supervisor_nothing(warm):
    """Tens of megabytes of header would be a gigabyte of parsed objects in the supervisor,
    and parsing it again at every wake-up would make the snippet's timer late."""
    supervisor = warm._worker
    huge = ("import os, struct\n"
            "body = b'{\"x\":[' + b'[],' * (20 << 20) + b'[]]}'\n"
            "f = os.fdopen(255, 'wb', closefd=False)\n"
            "f.write(struct.pack('>I', len(body)) + body)\nf.flush()\n")
    r = warm.run(huge + "os._exit(0)\n")
    assert r.status == "ok" and r.images == [] and warm._worker is supervisor
    r = warm.run(huge.replace("[],", "0,").replace("[]]}", "0],\"blobs\":[1]}")
                 + "import time\nwhile True:\n    os.write(1, b'.')\n    time.sleep(0.001)\n")
    assert r.status == "timeout" and r.duration_s < warm.limits.timeout_s + 1 and warm._worker is supervisor
    assert_still_works(warm)


def test_no_cgroups_left_behind(cold):
    from viscode.sandbox.cgroups import V2_ROOT, is_v2

    parent = V2_ROOT if is_v2() else V2_ROOT / "memory" / "NSJAIL"

    def count():
        return len(list(parent.glob("NSJAIL.*")))

    before = count()
    for _ in range(3):
        assert cold.run("print(1)").status == "ok"
    r = cold.run("while True:\n    pass")
    assert r.status == "timeout"
    assert count() == before


def _forged_report_snippet(blobs: str) -> str:
    """A snippet that writes its own report (absurd numbers, wrong types) and then ends
    the way our child code does: close the report, stop."""
    header = ('{"exit_code": 0, "cpu_s": 1' + "9" * 400 + ', "maxrss_mb": 1e999, "placeholders": null, '
              '"images": 7, "blobs": ' + blobs + "}")
    return ("import os, struct\n"
            f"h = {header!r}.encode()\n"
            "os.write(255, struct.pack('>I', len(h)) + h)\n"
            "os.close(255)\n"
            "os.kill(os.getpid(), 19)\n")


def test_forged_report_with_absurd_numbers(warm):
    supervisor = warm._worker
    r = warm.run(_forged_report_snippet("[]"))
    assert r.status == "ok" and r.images == [] and 0 <= r.cpu_s <= warm.limits.timeout_s * 64
    assert r.peak_memory_mb < 1 << 20
    r = warm.run(_forged_report_snippet("[1e999]"))  # unparsable: no report, exit status unknown
    assert (r.status, r.exit_code) == ("error", 1)
    assert warm._worker is supervisor
    assert_still_works(warm)


def test_snippet_that_stops_itself_times_out(warm):
    r = warm.run("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)")
    assert r.status == "timeout"
    assert_still_works(warm)


def test_plain_fork_child_running_off_the_end(warm):
    r = warm.run("import os\npid = os.fork()\nif pid:\n    os.waitpid(pid, 0)\nprint('parent' if pid else 'child')")
    assert r.status == "ok" and r.duration_s < 2
    assert sorted(r.stdout.split()) == ["child", "parent"]
    assert_still_works(warm)
