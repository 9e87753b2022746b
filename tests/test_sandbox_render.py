"""plotly rendering: Chrome's start is never charged to a snippet, a render is cut at the
snippet's deadline, and a snippet's images do not depend on what ran before it."""

import os
import signal
import time

import pytest
from viscode.sandbox import Sandbox
from viscode.sandbox.render import PlotlyRenderer

TIMEOUT_S = 4.0
SLOW_START_S = TIMEOUT_S + 1.0
SCATTER = "import plotly.express as px\nfig = px.scatter(x=[1, 2, 3, 4], y=[3, 1, 4, 1], title='same')\nfig.show()\n"
MANY_MARKERS = ("import numpy as np, plotly.graph_objects as go\nx = np.random.default_rng(0).random(200000)\n"
                "go.Figure(go.Scatter(x=x, y=x[::-1], mode='markers')).show()\n")  # Chromium: 20 s or more


@pytest.fixture(scope="module")
def slow_renderer_sandbox():
    """A sandbox whose renderer takes longer to start than a snippet's whole time limit."""
    real_argv = PlotlyRenderer._argv

    def slow_start(self):  # every (re)start of the renderer, within what start() measures
        time.sleep(SLOW_START_S)
        return real_argv(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PlotlyRenderer, "_argv", slow_start)
        with Sandbox("warm", isolation="nsjail", timeout_s=TIMEOUT_S, memory_mb=512) as sb:
            yield sb


def _signature(result):
    return result.status, [(i.source, i.width, i.height, i.render_error, i.png) for i in result.images]


def test_renderer_start_is_paid_at_start_up_never_by_a_snippet(slow_renderer_sandbox):
    sb = slow_renderer_sandbox
    assert sb.startup["renderer"] >= SLOW_START_S and sb.startup["supervisor"] > 0
    first = sb.run(SCATTER)  # the first plotly snippet of a fresh sandbox
    assert first.status == "ok" and first.images[0].render_error is None and first.images[0].png
    assert first.duration_s < TIMEOUT_S
    assert sb.run("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n").status == "ok"
    assert sb.run("import plotly.express as px\npx.bar(x=['a'], y=[2]).show()\n").images[0].png
    assert _signature(sb.run(SCATTER)) == _signature(first)  # after others
    os.killpg(sb._renderer.worker.proc.pid, signal.SIGKILL)  # the renderer crashed between snippets
    assert _signature(sb.run(SCATTER)) == _signature(first)  # its (slow) replacement is not charged


def test_a_render_still_running_at_the_deadline_is_cut(slow_renderer_sandbox):
    sb = slow_renderer_sandbox
    began = time.monotonic()
    r = sb.run(MANY_MARKERS)
    elapsed = time.monotonic() - began - sb._renderer.started_s  # less the replacement's start
    (image,) = r.images
    assert r.status == "ok" and image.png is None and image.spec
    assert "deadline" in image.render_error or "died" in image.render_error
    assert elapsed < 20
    assert _signature(sb.run(SCATTER))[1][0][3] is None  # the replaced renderer draws again
