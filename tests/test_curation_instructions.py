"""The rule-based five-part instruction: faithful to the literal facts of the code, in words
rather than code, the same text for the same code, and never an exception, whatever the code."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys

import pytest
from viscode.curation.instructions import LEAD, PARTS, Instruction, describe
from viscode.curation.tags import Tags, tag
from viscode.grid.candidates.synth import synthesize

LINE_CHART = '''
import matplotlib.pyplot as plt
import pandas as pd

df = pd.DataFrame({
    "month": ["Jan", "Feb", "Mar", "Apr"],
    "revenue": [120.5, 98.0, 143.2, 160.0],
    "cost": [80, 75, 90, 99],
})
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(df["month"], df["revenue"], marker="o", linestyle="--", color="tab:blue", label="revenue")
ax.set_title("Monthly revenue")
ax.set_xlabel("Month")
ax.set_ylabel("Revenue (USD)")
ax.legend(loc="upper left")
ax.grid(True, alpha=0.3)
ax.set_yscale("log")
plt.tight_layout()
plt.show()
'''

GENERATED_GRID = '''
import matplotlib.pyplot as plt
import numpy as np

np.random.seed(7)
n = 50
x = np.linspace(0, 10, 100)
noise = np.random.normal(0, 0.5, n)
fig, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True)
axes[0, 0].plot(x, np.sin(x))
axes[0, 1].hist(noise, bins=20)
axes[1, 0].scatter(x[:n], noise, c=noise, cmap="viridis")
fig.suptitle("Four views")
plt.style.use("ggplot")
'''

SEABORN = '''
import seaborn as sns
import matplotlib.pyplot as plt

tips = sns.load_dataset("tips")
sns.set_theme(style="whitegrid", palette="muted")
ax = sns.boxplot(data=tips, x="day", y="total_bill", hue="sex")
ax.set(title="Bills by day", xlabel="Day", ylabel="Total bill")
plt.show()
'''

PLOTLY = '''
import plotly.express as px
import pandas as pd

sales = pd.DataFrame({"region": ["North", "South", "East"], "units": [30, 45, 12]})
fig = px.bar(sales, x="region", y="units", color="region", title="Units by region", template="plotly_white")
fig.update_layout(xaxis_title="Region", yaxis_title="Units", width=800, height=500)
fig.show()
'''


def instruction(code: str) -> Instruction:
    return describe(code, tag(code))


@pytest.fixture(scope="module")
def synth_rows() -> list[dict]:
    return list(synthesize(300, seed=4))


def test_literal_facts_of_a_matplotlib_line_chart():
    inst = instruction(LINE_CHART)
    assert "matplotlib" in inst.setup and "do not use seaborn" in inst.setup
    assert "DataFrame with the columns month, revenue and cost (4 rows)" in inst.data_description
    assert inst.data_preview.splitlines()[:3] == ["df:", "month | revenue | cost", "Jan | 120.5 | 80"]
    assert inst.data_preview.splitlines()[-1] == "... (4 rows)"
    assert inst.plot_description == "Draw a line chart of revenue against month."
    for phrase in ('Title the chart "Monthly revenue".', 'Label the x axis "Month" and the y axis "Revenue (USD)".',
                   "Show a legend in the upper left.", "Colour the marks tab:blue.", "Mark the points with circles.",
                   "Draw dashed lines.", "Add a faint grid.", "Use a logarithmic y axis.",
                   "Make the figure 8 by 4 inches.", "Use a tight layout."):
        assert phrase in inst.style_description


def test_generated_data_subplots_and_style_sheet():
    inst = instruction(GENERATED_GRID)
    data = inst.data_description
    assert data.startswith("Seed the random number generator with 7")
    assert "x holds 100 evenly spaced values from 0 to 10." in data
    assert "noise holds 50 random values from a normal distribution with mean 0 and standard deviation 0.5." in data
    assert inst.data_preview == ""  # nothing inline to preview
    plot = inst.plot_description
    assert plot.startswith("Lay out 4 panels in 2 rows and 2 columns, sharing the x axis.")
    assert "Add a histogram of noise. " in plot and "scatter plot of noise against x, coloured by noise" in plot
    assert "Use 20 bins." in plot
    assert 'Title the figure "Four views".' in inst.style_description
    assert 'Use the matplotlib style sheet "ggplot".' in inst.style_description
    assert 'Use the "viridis" colour map.' in inst.style_description


def test_seaborn_and_plotly_setups_and_mappings():
    sns_inst = instruction(SEABORN)
    assert sns_inst.setup.startswith("Use Python and seaborn")
    assert "seaborn's example dataset \"tips\"" in sns_inst.data_description
    assert sns_inst.plot_description == ("Draw a box plot with day on the x axis and total_bill on the y axis from "
                                         "tips, coloured by sex.")
    assert 'Use the seaborn theme with the "whitegrid" style and the "muted" palette.' in sns_inst.style_description
    assert 'Label the x axis "Day" and the y axis "Total bill".' in sns_inst.style_description
    px_inst = instruction(PLOTLY)
    assert "plotly (plotly express)" in px_inst.setup and "Do not use matplotlib." in px_inst.setup
    assert px_inst.plot_description == ("Draw a bar chart with region on the x axis and units on the y axis from "
                                        "sales, coloured by region.")
    for phrase in ('Title the chart "Units by region".', 'Use the plotly template "plotly_white".',
                   "Make the figure 800 by 500 pixels."):
        assert phrase in px_inst.style_description


def test_text_numbers_the_parts_that_are_there():
    inst = Instruction("Use Python.", "Data.", "", "Draw a pie chart.", "")
    assert inst.text() == f"{LEAD}\n1. Setup: Use Python.\n2. Data description: Data.\n3. Plot description: Draw a pie chart."
    lines = instruction(LINE_CHART).text().splitlines()
    assert [line.split(":")[0] for line in lines if re.match(r"\d\. ", line)] == [
        "1. Setup", "2. Data description", "3. Data preview", "4. Plot description", "5. Style description"]
    assert PARTS == tuple(Instruction.__dataclass_fields__)


# Writes the instruction of every program it reads (a JSON list on stdin), as a JSON list.
DESCRIBE_STDIN = """
import json, sys
from viscode.curation.instructions import describe
from viscode.curation.tags import tag
print(json.dumps([describe(code, tag(code)).text() for code in json.load(sys.stdin)]))
"""


def test_same_code_same_text(synth_rows):
    """The same text in every process, not just within one: nothing a process picks at random, such as the
    iteration order of a set of strings (PYTHONHASHSEED), may reach the text."""
    codes = [r["code"] for r in synth_rows[:100]]
    first = [instruction(code).text() for code in codes]
    assert first == [instruction(code).text() for code in codes]
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", DESCRIBE_STDIN], input=json.dumps(codes), capture_output=True,
                              text=True, env={**os.environ, "PYTHONHASHSEED": seed}, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == first, f"PYTHONHASHSEED={seed}"
    assert len(set(first)) > 90  # and different programs read differently


def test_describes_rather_than_copies_code(synth_rows):
    for row in synth_rows:
        inst = instruction(row["code"])
        text = inst.text()
        assert inst.setup and inst.plot_description
        for line in row["code"].splitlines():
            line = line.strip()
            if len(line) > 12 and not line.startswith("#"):
                assert line not in text, (line, text)
        assert not re.search(r"\b(plt|sns|px|go|np|pd)\.\w+\(", text)


def test_preview_only_for_inline_data(synth_rows):
    for row in synth_rows:
        inst = instruction(row["code"])
        if row["data_origin"] == "inline" and "pd.DataFrame({" in row["code"]:
            assert inst.data_preview, row["code"]
        if not re.search(r"[\[{]\s*['\"\d-]", row["code"]):  # no list or dict literal of data
            assert inst.data_preview == "", row["code"]


def test_the_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n" \
           f"x = [__import__('os').system('touch {marker}')]"
    instruction(code).text()
    assert not marker.exists()


def test_odd_and_broken_code_degrades_to_generic_text(synth_rows):
    broken = describe("def f(:\n  plt.bar(", Tags("matplotlib", ("bar",), "inline"))
    assert broken.setup.startswith("Use Python and matplotlib") and broken.plot_description == "Draw a bar chart."
    assert describe("", Tags("other", (), "inline")).plot_description == "Draw a chart of the data."
    odd = ["x", "(" * 300 + ")" * 300, "plt.plot(*a, **k)\nax.set(**o)", "for a, b in zip():\n    ax.plot()",
           "plt.subplots(0, -1)\nplt.xlim(None)\nplt.legend(loc=3)", "np.arange(0, 10, 0)\nplt.plot(range(10**9))",
           "df = pd.DataFrame({**a, 'x': [1]})\ndf.plot(kind=k)", "sns.set_theme(1, 2, 3, 4)\nx = 2 ** 10000"]
    r = random.Random(0)
    for row in synth_rows[:150]:
        lines = row["code"].splitlines()
        i = r.randrange(len(lines))
        odd.append("\n".join(lines[:i] + [lines[i][: len(lines[i]) // 2]] + lines[i + 1:]))
        del lines[r.randrange(len(lines))]
        odd.append("\n".join(lines))
    for code in odd:
        assert instruction(code).text().startswith(LEAD)
