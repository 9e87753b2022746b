"""Shared fixtures. Sandbox tests run against real nsjail and fail, never skip,
when it is unavailable (isolation="nsjail" raises SandboxError)."""

from __future__ import annotations

import pytest
from viscode.sandbox import Sandbox


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory):
    """Tokens, judge replies and LLM answers are cached per host: a module that asks for this keeps
    its own (and so do the processes it starts), so no test reads another's or the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISCODE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def warm():
    with Sandbox("warm", isolation="nsjail", timeout_s=3, memory_mb=512, max_procs=64) as sb:
        yield sb


@pytest.fixture(scope="module")
def cold():
    with Sandbox("cold", isolation="nsjail", timeout_s=5, memory_mb=512) as sb:
        yield sb


def assert_still_works(sb) -> None:
    """The next snippet after a hostile one gets a working sandbox."""
    r = sb.run("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nprint('alive')", snippet_id="canary")
    assert r.status == "ok", (r.status, r.error_message, r.stderr)
    assert r.stdout == "alive\n"
    assert len(r.images) == 1 and r.images[0].artists == 1
