"""A limit that cannot be applied stops the sandbox: it never runs a snippet in a weaker jail."""

import pytest
from viscode.sandbox import Sandbox, SandboxError, cgroups, worker


def _no_cgroup(monkeypatch):
    monkeypatch.setattr(worker.JailMemory, "of", classmethod(lambda cls, pid: None))


def _unwritable_limit(monkeypatch):
    real = cgroups.JailMemory._write
    monkeypatch.setattr(cgroups.JailMemory, "_write",
                        lambda self, name, value: False if "limit" in name or name.endswith(".max") else real(self, name, value))


def test_a_memory_limit_that_cannot_be_applied_refuses_to_start(monkeypatch):
    _no_cgroup(monkeypatch)
    sb = Sandbox("warm", isolation="nsjail", timeout_s=5, render_plotly=False)
    with pytest.raises(SandboxError, match="cannot apply the memory limit of 1024 MB: no memory cgroup found"):
        sb.start()
    sb.close()


@pytest.mark.parametrize("break_it, why", [(_no_cgroup, "no memory cgroup found"), (_unwritable_limit, "cannot write")])
def test_a_cold_jail_without_its_limit_is_a_sandbox_error(monkeypatch, break_it, why):
    with Sandbox("cold", isolation="nsjail", timeout_s=5, render_plotly=False) as cold:
        break_it(monkeypatch)
        r = cold.run("print(1)")
        assert r.status == "sandbox_error" and "cannot apply the memory limit" in r.error_message and why in r.error_message


def test_a_replacement_supervisor_without_its_limit_is_a_sandbox_error(monkeypatch):
    with Sandbox("warm", isolation="nsjail", timeout_s=5, render_plotly=False) as sb:
        assert sb.run("print(1)").status == "ok"
        _no_cgroup(monkeypatch)
        sb._discard(sb._worker)  # the next snippet needs a fresh supervisor, as after any breakage
        r = sb.run("print(1)")
        assert r.status == "sandbox_error" and "no memory cgroup found" in r.error_message
        monkeypatch.undo()
        assert sb.run("print(1)").status == "ok"  # a jail that can be limited serves again
