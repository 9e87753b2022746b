"""Code-Feedback import: Python dialogues kept, everything else counted under its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from viscode.curation.code_feedback import REASONS, FeedbackFilter, read_code_feedback

FIRST = "import pandas as pd\ndf = pd.read_csv('a.csv')\nprint(df.head())"
FIXED = "import pandas as pd\ndf = pd.read_csv('a.csv', sep=';')\nprint(df.head())"
DEFAULT = FeedbackFilter()


def _turns(*contents: str, system: bool = False) -> list[dict[str, str]]:
    roles = ["user", "assistant"] * len(contents)
    turns = [{"role": role, "content": text} for role, text in zip(roles, contents, strict=False)]
    return [{"role": "system", "content": "You are a coding assistant."}, *turns] if system else turns


def _python_dialogue(**extra) -> dict:
    return {"id": 17, "messages": _turns(
        "Load a.csv and show the first rows.",
        f"Here you go:\n```python\n{FIRST}\n```",
        "Execution result:\nParserError: Error tokenizing data",
        f"The file uses semicolons.\n```python\n# check\nprint(1)\n```\nThen:\n```python\n{FIXED}\n```\nDone.",
        system=True), **extra}


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def _reason(tmp_path: Path, record: object, flt: FeedbackFilter = DEFAULT) -> str:
    _, counts = read_code_feedback(_write(tmp_path / "one.jsonl", [record]), flt)
    (reason,) = [r for r, n in counts.items() if n]
    return reason


def test_python_dialogue_is_kept_with_its_last_code_block(tmp_path):
    path = _write(tmp_path / "cf.jsonl", ["", _python_dialogue(lang="py"), "   "])
    kept, counts = read_code_feedback(path, DEFAULT)
    assert counts == {reason: int(reason == "kept") for reason in REASONS}
    (record,) = kept
    assert record == {"id": "17", "messages": _python_dialogue()["messages"], "code": FIXED,
                      "source": "code-feedback:cf.jsonl:2"}


def test_every_line_is_counted_under_one_reason(tmp_path):
    js = {"messages": _turns("Sort an array", "```javascript\nconst a = [3, 1].sort();\n```",
                             "It fails", "```js\nconst a = [3, 1].sort((x, y) => x - y);\n```")}
    html_and_python = {"messages": _turns("Serve a page", "```python\nprint('hi')\n```", "And the page?",
                                          "```html\n<p>hi</p>\n```")}
    lines = [
        _python_dialogue(),
        "{not json",
        "[1, 2, 3]",
        js,
        html_and_python,
        {"messages": _turns(*["ask", "```python\nx = 1\n```"] * 6)},          # 12 turns
        {"messages": _turns("ask", "```python\nx = 1\n```")},                  # 2 turns
        {"messages": [{"role": "assistant", "content": "hi"}, *_turns("ask", "```python\nx = 1\n```")]},
        {"messages": _turns("ask", "```python\nx = 1\n```", "more", "Sure, it works now.")},
        {"messages": _turns("ask", "```python\n" + "x = 1\n" * 4000 + "```", "more", "```python\nx = 2\n```")},
        {"id": 3},
    ]
    kept, counts = read_code_feedback(_write(tmp_path / "mixed.jsonl", lines), DEFAULT)
    assert counts == {"kept": 1, "invalid_json": 2, "bad_roles": 2, "too_few_turns": 1, "too_many_turns": 1,
                      "too_long": 1, "not_python": 2, "no_code": 1}
    assert [r["source"] for r in kept] == ["code-feedback:mixed.jsonl:1"]


@pytest.mark.parametrize("messages", [
    _turns("a", "```python\nx = 1\n```", "b", "```python\nx = 2\n```")[::-1],                       # assistant first
    [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
     {"role": "assistant", "content": "```python\nx = 1\n```"}, {"role": "assistant", "content": "c"}],
    _turns("a", "```python\nx = 1\n```", "b"),                                                       # ends on the user
    [*_turns("a", "```python\nx = 1\n```"), {"role": "system", "content": "s"}, *_turns("b", "```python\nx\n```")],
    [{"role": "user", "content": ["not", "text"]}, *_turns("a", "```python\nx = 1\n```")[1:]],
    [],
    "messages",
])
def test_roles_out_of_order_or_malformed_are_bad_roles(tmp_path, messages):
    assert _reason(tmp_path, {"messages": messages}) == "bad_roles"


def test_unlabelled_blocks_count_as_python_only_when_they_are_code(tmp_path):
    code = {"messages": _turns("ask", "```\nimport math\nprint(math.pi)\n```", "fails", "```\nx = [1, 2]\n```")}
    assert _reason(tmp_path, code) == "kept"
    output_only = {"messages": _turns("ask", "```\n[1, 2, 3]\n```", "and?", "```\n42\n```")}
    assert _reason(tmp_path, output_only) == "not_python"
    shell_and_python = {"messages": _turns("ask", "```bash\npip install numpy\n```", "then?",
                                           "~~~python\nimport numpy as np\n~~~")}
    kept, _ = read_code_feedback(_write(tmp_path / "s.jsonl", [shell_and_python]), DEFAULT)
    assert kept[0]["code"] == "import numpy as np"


def test_longer_fences_hold_inner_fences(tmp_path):
    inner = "s = '''\n```\nnot a fence end\n```\n'''\nprint(s)"
    record = {"messages": _turns("ask", "```python\nx = 1\n```", "quote it", f"````python\n{inner}\n````")}
    kept, _ = read_code_feedback(_write(tmp_path / "f.jsonl", [record]), DEFAULT)
    assert kept[0]["code"] == inner


def test_thresholds_are_parameters(tmp_path):
    record = _python_dialogue()
    assert _reason(tmp_path, record, FeedbackFilter(max_turns=3)) == "too_many_turns"
    assert _reason(tmp_path, record, FeedbackFilter(min_turns=5, max_turns=6)) == "too_few_turns"
    assert _reason(tmp_path, record, FeedbackFilter(max_chars=100)) == "too_long"
    with pytest.raises(ValueError):
        FeedbackFilter(min_turns=4, max_turns=3)


def test_missing_or_empty_files_raise_one_line_naming_the_file(tmp_path):
    for path in (tmp_path / "absent.jsonl", _write(tmp_path / "junk.jsonl", ["{oops", "nope", "[]"]),
                 _write(tmp_path / "blank.jsonl", ["", "  "])):
        with pytest.raises(ValueError) as error:
            read_code_feedback(path, DEFAULT)
        assert str(path) in str(error.value) and "\n" not in str(error.value)
