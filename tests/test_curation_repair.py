"""Faulty variants for repair dialogues, and the self-debug wording they share with the benchmark.

Everything here is static: variants are compiled, parsed and compared, never run (the grid runs them)."""

from __future__ import annotations

import ast
import builtins
import difflib
import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from viscode.curation import repair
from viscode.curation.repair import FAULT_KINDS, Variant, dialogue, variants
from viscode.grid.candidates.synth import synthesize

from viscode.codetext import code_id
from viscode.faults import REPAIR_KWARG_TYPOS
from viscode.selfdebug import code_block, feedback_message, trim_traceback


@pytest.fixture(scope="module")
def working() -> list[dict]:
    return [r for r in synthesize(300, seed=0) if r["fault"] is None]


def _changed(original: str, mutated: str) -> tuple[list[str], list[str]]:
    """Lines removed from and added to `original`."""
    diff = list(difflib.ndiff(original.splitlines(), mutated.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def _strings(code: str) -> Counter[str]:
    return Counter(n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _keywords(code: str) -> Counter[str]:
    return Counter(k.arg for k in ast.walk(ast.parse(code)) if isinstance(k, ast.keyword) and k.arg)


def _attributes(code: str) -> Counter[str]:
    return Counter(n.attr for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Attribute))


# ----------------------------------------------------------------------------- every kind, on synth programs


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_kind_gives_compilable_different_programs(working, kind):
    made = 0
    for row in working:
        for v in variants(row["code"], row["source"], kinds=(kind,)):
            assert isinstance(v, Variant) and v.fault == kind and v.source_id == row["source"]
            compile(v.code, "<variant>", "exec")  # compiled, never run
            assert v.id == code_id(v.code) != code_id(row["code"])
            removed, added = _changed(row["code"], v.code)
            assert len(removed) <= 1 and len(added) <= 1, (removed, added)  # one line edited, the rest untouched
            made += 1
    assert made >= len(working) // 10, f"{kind} applies to only {made} of {len(working)} synth programs"


def test_variants_are_deterministic_and_spread_over_kinds(working):
    for row in working[:40]:
        first = variants(row["code"], row["source"], per_snippet=4)
        assert first == variants(row["code"], row["source"], per_snippet=4)
        assert len({v.id for v in first}) == len(first)
        assert len({v.fault for v in first}) == len(first)  # round robin: one per kind before repeating any
        assert [v.code for v in variants(row["code"], row["source"], per_snippet=1)] == [first[0].code]


def test_variants_do_not_depend_on_the_hash_seed(working):
    script = ("import json, sys\nfrom viscode.grid.candidates.synth import synthesize\nfrom viscode.curation.repair import variants\n"
              "rows = [r for r in synthesize(30, seed=0) if r['fault'] is None]\n"
              "json.dump([[v.id for v in variants(r['code'], r['source'], per_snippet=3)] for r in rows], sys.stdout)")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and json.loads(runs[0])


def test_per_snippet_and_kinds_are_respected(working):
    code, source = working[0]["code"], working[0]["source"]
    assert variants(code, source, per_snippet=0) == []
    many = variants(code, source, per_snippet=50, kinds=("wrong_kwarg", "missing_import"))
    assert {v.fault for v in many} == {"wrong_kwarg", "missing_import"}
    assert len({v.id for v in many}) == len(many) > 2
    with pytest.raises(ValueError, match="unknown fault kinds"):
        variants(code, source, kinds=("typo",))
    with pytest.raises(ValueError, match="per_snippet"):
        variants(code, source, per_snippet=-1)


def test_no_variant_where_nothing_applies():
    assert variants("def broken(:\n", "s") == []
    assert variants("pass\n", "s") == []
    assert variants("", "s") == []


# ----------------------------------------------------------------------------- each kind does what it says

FRAME = '''import matplotlib.pyplot as plt
import pandas as pd

# quarterly figures
df = pd.DataFrame({"region": ["north", "south", "east"], "sales": [10, 12, 9]})
fig, ax = plt.subplots(figsize=(6, 4))
ax.bar(df["region"], df["sales"], color='tab:blue', alpha=0.8)  # bars
ax.set_title("Sales")
plt.show()
'''


def _all(code: str, kind: str) -> list[Variant]:
    return variants(code, "test", per_snippet=100, kinds=(kind,))


def test_wrong_column_is_a_near_miss_of_a_used_column():
    made = _all(FRAME, "wrong_column")
    for v in made:
        (old, _), = (_strings(FRAME) - _strings(v.code)).items()
        (new, _), = (_strings(v.code) - _strings(FRAME)).items()
        assert old in ("region", "sales") and new in repair._near_misses(old, frozenset({"region", "sales"}))
        assert '{"region": ["north", "south", "east"], "sales": [10, 12, 9]}' in v.code  # the frame is untouched
    assert len(made) == 2  # the two subscripts


def test_wrong_kwarg_misspells_a_plotting_keyword():
    misspelled = set()
    for v in _all(FRAME, "wrong_kwarg"):
        (old, _), = (_keywords(FRAME) - _keywords(v.code)).items()
        (new, _), = (_keywords(v.code) - _keywords(FRAME)).items()
        assert new in REPAIR_KWARG_TYPOS[old]
        misspelled.add(old)
    assert misspelled == {"figsize", "color", "alpha"}


def test_bad_api_calls_names_that_do_not_exist():
    names = {a for v in _all(FRAME, "bad_api") for a in _attributes(v.code) - _attributes(FRAME)}
    assert {"barplot", "title", "setTitle", "display"} & names
    code = "import seaborn as sns\nimport plotly.express as px\nsns.barplot(x=[1], y=[2])\nfig = px.bar(x=[1], y=[2])\n"
    names = {a for v in _all(code, "bad_api") for a in _attributes(v.code) - _attributes(code)}
    assert names & {"bar_plot", "barchart"} and names & {"bars", "bar_chart"}


def test_missing_import_drops_a_used_import_line_only():
    for v in _all(FRAME, "missing_import"):
        removed, added = _changed(FRAME, v.code)
        assert added == [] and len(removed) == 1 and removed[0].startswith("import ")
        alias = removed[0].split()[-1]
        assert f"{alias}." in v.code  # still used, now unbound
    unused = "import os\nimport numpy as np\nx = np.arange(3)\n"
    assert [_changed(unused, v.code)[0] for v in _all(unused, "missing_import")] == [["import numpy as np"]]


def test_shape_mismatch_shortens_one_of_a_pair():
    code = ("import matplotlib.pyplot as plt\nimport numpy as np\nx = [1, 2, 3, 4]\ny = [5, 6, 7, 8]\n"
            "plt.plot(x, y)\nt = np.linspace(0, 1, 50)\nv = np.random.rand(50)\nplt.scatter(t, v)\n")
    made = {v.code for v in _all(code, "shape_mismatch")}
    assert code.replace("x = [1, 2, 3, 4]", "x = [1, 2, 3]") in made
    assert code.replace("y = [5, 6, 7, 8]", "y = [5, 6, 7]") in made
    assert code.replace("linspace(0, 1, 50)", "linspace(0, 1, 49)") in made
    generated = "import pandas as pd\nimport numpy as np\nn = 9\nrng = np.random.default_rng(0)\n" \
                "df = pd.DataFrame({'a': rng.normal(0, 1, n), 'b': rng.normal(0, 1, n)})\n"
    assert generated.replace("'a': rng.normal(0, 1, n)", "'a': rng.normal(0, 1, n - 1)") in \
        {v.code for v in _all(generated, "shape_mismatch")}


def test_mixed_libraries_uses_another_librarys_idiom():
    made = {v.code for v in _all(FRAME, "mixed_libraries")}
    assert any("hue=\"region\"" in c or "palette=" in c for c in made)
    assert any('ax.update_layout(title="Sales")' in c for c in made)
    plotly = "import plotly.express as px\n\nfig = px.line(x=[1, 2], y=[3, 4])\nfig.write_image('a.png')\nfig.show()\n"
    made = {v.code for v in _all(plotly, "mixed_libraries")}
    assert plotly.replace("x=[1, 2], y=[3, 4])", "x=[1, 2], y=[3, 4], figsize=(10, 6))") in made
    assert plotly.replace("fig.write_image(", "fig.savefig(") in made
    assert {plotly.replace("fig.show()", f"fig.{call}\nfig.show()") for call in ("tight_layout()",
                                                                             "set_size_inches(10, 6)")} & made


def test_wrong_dtype_quotes_numbers():
    made = {v.code for v in _all(FRAME, "wrong_dtype")}
    assert FRAME.replace("alpha=0.8", 'alpha="0.8"') in made  # in the program's usual quote
    assert FRAME.replace("figsize=(6, 4)", 'figsize="6x4"') in made


def test_undefined_name_uses_an_unbound_name():
    for v in _all(FRAME, "undefined_name"):
        tree = ast.parse(v.code)
        bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        bound |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                  for a in n.names}
        loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        assert loaded - bound - set(dir(builtins)), v.code
    assert any("data[" in v.code for v in _all(FRAME, "undefined_name"))


def test_formatting_outside_the_edit_is_kept():
    made = variants(FRAME, "fmt", per_snippet=20)
    assert len({v.fault for v in made}) == len(FAULT_KINDS)
    for v in made:
        assert "# quarterly figures\n" in v.code and "  # bars\n" in v.code
        removed, added = _changed(FRAME, v.code)
        assert len(removed) <= 1 and len(added) <= 1


def test_non_ascii_source_is_edited_at_the_right_offsets():
    code = 'import matplotlib.pyplot as plt\nplt.title("Température °C"); plt.plot([1, 2], [3, 4], color="réd")\n'
    made = variants(code, "utf8", per_snippet=30)
    assert made
    for v in made:
        compile(v.code, "<variant>", "exec")
        assert 'plt.title("Température °C")' in v.code or 'plt.set_title("Température °C")' in v.code \
            or 'plt.plot_title("Température °C")' in v.code


# ----------------------------------------------------------------------------- dialogue and self-debug wording


def test_dialogue_layout_and_wording():
    turns = dialogue("Plot sales by region.", "plt.bars(x, y)", "AttributeError: no bars", "plt.bar(x, y)")
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[0]["content"] == "Plot sales by region."
    assert turns[1]["content"] == "```python\nplt.bars(x, y)\n```"
    assert turns[2]["content"] == ("The above code failed with the following error:\nAttributeError: no bars\n"
                                   "Please provide a corrected version enclosed in ```python ... ```.")
    assert turns[3]["content"] == "```python\nplt.bar(x, y)\n```"
    long_error = "Traceback (most recent call last):\n" + "  frame\n" * 2000 + "KeyError: 'Sales'"
    fed_back = dialogue("t", "a", long_error, "b")[2]["content"]
    assert "KeyError: 'Sales'\nPlease provide" in fed_back and len(fed_back) < 4200


def test_self_debug_wording_matches_viscoder():
    assert code_block("x = 1") == "```python\nx = 1\n```"
    assert code_block("\nx = 1\n\n") == "```python\nx = 1\n```"
    assert feedback_message("E") == ("The above code failed with the following error:\nE\n"
                                     "Please provide a corrected version enclosed in ```python ... ```.")
    assert feedback_message("E", again=True) == ("The above code still failed with the following error:\nE\n"
                                                 "Please provide a corrected version enclosed in ```python ... ```.")


def test_trim_traceback_keeps_head_and_last_line():
    short = "Traceback:\n  line\nValueError: x"
    assert trim_traceback(short) == short
    text = "Traceback (most recent call last):\n" + "".join(f'  File "f.py", line {i}\n' for i in range(3000)) + \
        "ValueError: shapes (3,) and (4,) differ"
    trimmed = trim_traceback(text, limit=1000)
    assert len(trimmed) <= 1000 and trimmed == trim_traceback(text, limit=1000)
    lines = trimmed.split("\n")
    assert lines[0] == "Traceback (most recent call last):" and lines[-1] == "ValueError: shapes (3,) and (4,) differ"
    assert sum("lines trimmed" in line for line in lines) == 1
    huge = "Traceback:\n" + "ValueError: " + "x" * 10_000 + "\n"
    last = trim_traceback(huge, limit=500).split("\n")[-1]
    assert last.startswith("ValueError: xxx") and last.endswith("…") and len(trim_traceback(huge, limit=500)) <= 500
    with pytest.raises(ValueError):
        trim_traceback(text, limit=10)
