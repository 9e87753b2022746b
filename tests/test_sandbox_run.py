"""Ordinary snippets: capture, statuses, tracebacks, data files, reproducibility."""

import pytest
from viscode.sandbox import Sandbox


def test_matplotlib_figures_and_artist_counts(warm):
    r = warm.run("import matplotlib.pyplot as plt\n"
                 "fig, ax = plt.subplots()\nax.bar(['a','b'], [1,2])\n"
                 "plt.figure()\nplt.gca()\n", snippet_id="figs")
    assert r.status == "ok" and r.isolation == "nsjail"
    assert [(i.source, i.artists) for i in r.images] == [("matplotlib", 2), ("matplotlib", 0)]
    assert (r.images[0].width, r.images[0].height) == (640, 480)
    assert r.images[0].png.startswith(b"\x89PNG")


def test_show_is_a_capture_point_and_never_blocks(warm):
    r = warm.run("import matplotlib.pyplot as plt\nplt.plot([1,2])\nplt.show()\nplt.plot([3,4,5])\nplt.show()")
    assert r.status == "ok" and len(r.images) == 2 and r.duration_s < 2


def test_seaborn_and_pandas_plots(warm):
    r = warm.run("import seaborn as sns, pandas as pd\n"
                 "df = pd.DataFrame({'x': range(10), 'y': range(10)})\n"
                 "sns.lineplot(data=df, x='x', y='y')\n")
    assert r.status == "ok" and r.images[0].artists >= 1


def test_plotly_show_write_image_and_to_image(warm):
    r = warm.run("import plotly.graph_objects as go\n"
                 "fig = go.Figure(go.Bar(x=['a','b'], y=[1,3]))\n"
                 "fig.show()\nfig.write_image('out.png')\nb = fig.to_image(format='png')\nprint(type(b).__name__)")
    assert r.status == "ok", r.stderr
    assert r.stdout == "bytes\n"
    plotly = [i for i in r.images if i.source == "plotly"]
    assert len(plotly) == 3
    for img in plotly:
        assert '"type":"bar"' in img.spec
        assert img.render_error is None and img.png.startswith(b"\x89PNG") and img.width == 700


def test_files_and_written_images(warm):
    r = warm.run("import pandas as pd, matplotlib.pyplot as plt\n"
                 "df = pd.read_csv('data.csv')\n"
                 "df.plot(x='a', y='b')\nplt.savefig('plot.png')\nplt.close('all')\nprint(len(df))",
                 files={"data.csv": b"a,b\n1,2\n3,4\n"})
    assert r.status == "ok" and r.stdout == "2\n"
    assert [(i.source, i.name) for i in r.images] == [("file", "plot.png")]


def test_traceback_is_trimmed_to_the_snippet(warm):
    r = warm.run("import pandas as pd\n\ndef f(df):\n    return df['missing']\n\nf(pd.DataFrame({'a': [1]}))\n")
    assert r.status == "error" and r.error_type == "KeyError"
    assert r.traceback.startswith("Traceback (most recent call last):\n  File \"snippet.py\", line 6")
    assert "site-packages" not in r.traceback and "viscode" not in r.traceback
    assert r.traceback.rstrip().endswith("KeyError: 'missing'")


def test_a_huge_exception_message_keeps_the_frames(warm):
    r = warm.run("def f():\n    raise ValueError('start ' + 'x' * 50000 + ' end')\n\nf()\n")
    assert r.traceback.startswith('Traceback (most recent call last):\n  File "snippet.py", line 4')
    assert "ValueError: start" in r.traceback and r.traceback.rstrip().endswith("x end")
    assert "characters trimmed" in r.traceback and len(r.traceback) < 9000


def test_error_text_is_identical_warm_and_cold(warm, cold):
    code = "import numpy as np\nx = np.zeros(3)\ny = x.reshape(2, 2)\n"
    a, b = warm.run(code), cold.run(code)
    assert (a.status, a.error_type, a.traceback) == (b.status, b.error_type, b.traceback)
    assert a.error_type == "ValueError"


def test_syntax_error(warm):
    r = warm.run("print('a'\n")
    assert r.status == "error" and r.error_type == "SyntaxError" and 'File "snippet.py", line 1' in r.traceback


def test_non_utf8_source(warm):
    r = warm.run(b"print('caf\xe9')\n")
    assert r.status == "error" and r.error_type == "SyntaxError"
    latin = warm.run(b"# -*- coding: latin-1 -*-\nprint('caf\xe9')\n")
    assert latin.status == "ok" and latin.stdout == "caf\u00e9\n"


@pytest.mark.parametrize("code,exit_code", [("import sys; sys.exit(137)", 137), ("import sys; sys.exit(109)", 109),
                                            ("import sys; sys.exit(3)", 3)])
def test_exit_codes_are_errors_not_limits(warm, code, exit_code):
    r = warm.run(code)
    assert (r.status, r.exit_code, r.signal) == ("error", exit_code, None)


def test_clean_exits(warm):
    assert warm.run("import sys; print('x'); sys.exit(0)").status == "ok"
    r = warm.run("import os, matplotlib.pyplot as plt\nplt.plot([1])\nos._exit(0)")
    assert (r.status, r.exit_code, r.images) == ("ok", 0, [])


def test_output_is_capped_head_and_tail(warm):
    r = warm.run("print('BEGIN')\nfor i in range(40000): print('line', i)\nprint('END')")
    assert r.status == "ok" and r.stdout_truncated
    assert r.stdout.startswith("BEGIN\n") and r.stdout.endswith("END\n") and "bytes omitted" in r.stdout
    assert len(r.stdout) < 300_000


def test_cold_mode_runs_one_jail_per_snippet(cold):
    a = cold.run("import os\nopen('/tmp/m', 'w').write('x')\nprint(os.getpid())")
    b = cold.run("import os\nprint(os.path.exists('/tmp/m'))")
    assert a.status == b.status == "ok" and b.stdout == "False\n"


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="mode"):
        Sandbox("lukewarm")
    with Sandbox("cold", isolation="nsjail") as sb, pytest.raises(ValueError, match="plain file name"):
        sb.run("pass", files={"../x": b""})


def test_result_json_schema(warm):
    out = warm.run("import matplotlib.pyplot as plt\nplt.plot([1])", snippet_id="s1").to_json()
    assert set(out) >= {"id", "status", "error_type", "error_message", "traceback", "stdout", "stderr",
                        "stdout_truncated", "stderr_truncated", "duration_s", "cpu_s", "peak_memory_mb",
                        "images", "isolation", "schema_version"}
    assert out["id"] == "s1" and isinstance(out["images"][0]["png"], str)


def test_random_streams_are_the_same_warm_and_cold(warm, cold):
    code = "import random\nimport numpy as np\nprint(random.random(), np.random.rand())"
    a, b = warm.run(code), cold.run(code)
    assert a.status == b.status == "ok" and a.stdout == b.stdout == warm.run(code).stdout


def test_dead_supervisor_is_replaced_transparently(warm):
    assert warm.run("pass").status == "ok"
    warm._worker.close()  # as if the supervisor had died between snippets
    r = warm.run("print('fresh')")
    assert r.status == "ok" and r.stdout == "fresh\n"


def test_replacement_supervisor_is_kept_warm(warm):
    warm._worker.close()
    warm.run("pass")
    replacement = warm._worker
    assert replacement is not None and replacement.alive()
    warm.run("pass")
    assert warm._worker is replacement


def test_jpeg_files_are_converted_in_the_snippets_process(warm):
    r = warm.run("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('out.jpg')\nplt.close('all')\n"
                 "open('fake.jpg', 'wb').write(b'not a jpeg')")
    assert r.status == "ok"
    assert [(i.source, i.name, i.width) for i in r.images] == [("file", "out.jpg", 640)]
    assert r.images[0].png.startswith(b"\x89PNG")


def test_plotly_write_image_leaves_a_readable_file_and_any_renderer_is_captured(warm):
    r = warm.run("import plotly.express as px\nfig = px.line(x=[1, 2], y=[3, 4])\n"
                 "fig.write_image('chart.png')\nprint(len(open('chart.png', 'rb').read()) > 0)\n"
                 "fig.show(renderer='browser')\n")
    assert r.status == "ok" and r.stdout == "True\n"
    assert [i.source for i in r.images] == ["plotly", "plotly"]  # the placeholder file is not collected


def test_data_files_over_the_scratch_budget_are_refused(warm):
    with pytest.raises(ValueError, match="data files total"):
        warm.run("pass", files={"big.csv": b"x" * (warm.limits.scratch_mb * 1024 * 1024)})


def test_lone_surrogates_in_code_are_the_snippets_error(warm):
    r = warm.run("print('\udcff')")
    assert r.status == "error" and r.error_type == "SyntaxError"


def test_plotly_figure_that_cannot_be_rendered_keeps_its_json_and_says_why():
    with Sandbox("warm", isolation="nsjail", timeout_s=5, render_plotly=False) as sb:
        r = sb.run("import plotly.express as px\npx.bar(x=['a'], y=[1]).show()")
    assert r.status == "ok" and len(r.images) == 1
    img = r.images[0]
    assert img.png is None and img.render_error == "plotly rendering disabled" and '"type":"bar"' in img.spec


def test_sub_second_wall_clock_limit():
    with Sandbox("warm", isolation="nsjail", timeout_s=0.5) as sb:
        r = sb.run("import time\ntime.sleep(60)")
        assert r.status == "timeout" and 0.5 <= r.duration_s < 1.0
        assert sb.run("print('ok')").stdout == "ok\n"
