"""A limit that cannot be applied stops the sandbox: it never runs a snippet in a weaker jail."""

import pytest
from viscode.sandbox import Sandbox, SandboxError, cgroups, worker


def _no_cgroup(monkeypatch):
    monkeypatch.setattr(worker.JailMemory, "of", classmethod(lambda cls, pid: None))


def _unwritable_limit(monkeypatch):
    real = cgroups.JailMemory._write
    def write(self, name, value):
        return False if "limit" in name or name.endswith(".max") else real(self, name, value)

    monkeypatch.setattr(cgroups.JailMemory, "_write", write)


def test_a_memory_limit_that_cannot_be_applied_refuses_to_start(monkeypatch):
    _no_cgroup(monkeypatch)
    sb = Sandbox("warm", isolation="nsjail", timeout_s=5, render_plotly=False)
    with pytest.raises(SandboxError, match="cannot apply the memory limit of 1024 MB: no memory cgroup found"):
        sb.start()
    sb.close()


@pytest.mark.parametrize("break_it, why", [(_no_cgroup, "no memory cgroup found"), (_unwritable_limit, "cannot write")])
def test_a_jail_started_for_a_snippet_without_its_limit_is_a_sandbox_error(monkeypatch, break_it, why):
    """Cold mode starts a jail per snippet, as warm mode does to replace a broken one."""
    with Sandbox("cold", isolation="nsjail", timeout_s=5, render_plotly=False) as cold:
        break_it(monkeypatch)
        r = cold.run("print(1)")
        assert r.status == "sandbox_error" and "cannot apply the memory limit" in r.error_message
        assert why in r.error_message
