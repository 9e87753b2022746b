"""The plain-process fallback: only benign snippets (it is not a security boundary)."""

from viscode.sandbox import Sandbox


def test_fallback_runs_and_says_it_is_weaker(caplog):
    with Sandbox("warm", isolation="process", timeout_s=5, render_plotly=False) as sb:
        r = sb.run("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint('hi')")
        assert (r.status, r.isolation, r.stdout, len(r.images)) == ("ok", "process", "hi\n", 1)
        e = sb.run("1/0")
        assert e.status == "error" and e.traceback.rstrip().endswith("ZeroDivisionError: division by zero")
        t = sb.run("import time\ntime.sleep(30)")
        assert t.status == "timeout" and t.duration_s < 6
        assert sb.run("print('next')").stdout == "next\n"
    assert "WEAKER isolation" in caplog.text
