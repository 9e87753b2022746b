"""Requests and code extraction exactly as PandasPlotBench and VisCoder do them."""

from __future__ import annotations

import json

import pytest
from viscode.bench.extract import extract_code
from viscode.bench.prompts import (
    INSTRUCTS,
    DataError,
    describe_data,
    parse_score,
    request_messages,
    setup_text,
    task_judge_messages,
    user_prompt,
)
from viscode.bench.tasks import load_tasks

from viscode.errors import InputError

# The user prompt the benchmark's own code builds for task 22 with matplotlib and the `head`
# descriptor (pandas 2.2.3), character for character.
TASK_22_MATPLOTLIB = 'Write a code to build a plot of dataframe according to following instructions. Write a code that returns plot, not just function declaration.\nLoad df dataframe by single line ```df = pd.read_csv("data.csv")```. DO NOT alter df dataframe columns or add columns. This df dataframe should remain intact.\nDo not write explanations. Just a code enclosed in codeblock. Important reasoning write in comments to the code.\nMake sure that all used libraries and functions are imported.\nUse only visualization libraries listed in the setup section, do not use others.\n1. Plot Description: Plot three series from the dataframe on a single graph. Each series (\'smiddle\', \'slower\', \'supper\') should be plotted against the \'t\' column. The three series will be represented as separate lines on the graph, showcasing how each varies over \'t\'.\n2. Plot Style Description: The visual representation should clearly distinguish between the three data series by using different colors for each line. The resultant plot should include appropriate axes labels and a legend, if necessary, to ensure clarity in distinguishing between the different data series. The style should be visually appealing and clear, allowing easy comparison of trends across the three series.\n3. Setup. Use Python programming language. Import essential libraries. The essential libraries needed are pandas for managing dataframes and matplotlib with its subsidiary libraries for plotting. Ensure importing numpy as np and scipy if they are used in program. DO NOT use or import other visualization libraries. Use latest, not deprecated modules and packages.DO NOT use seaborn for plotting. Only pure matplotlib. \n4. Data description. Load df dataframe by single line ```df = pd.read_csv("data.csv")```, DO NOT create it or load. The metadata of the dataframe is following:\nDataFrame with 4 columns and 200 rows\nColumn names and types: t: float64, smiddle: float64, slower: float64, supper: float64\nHead:\n{"t":{"0":0.0,"1":0.01,"2":0.02,"3":0.03,"4":0.04},"smiddle":{"0":0.0,"1":0.0627905195,"2":0.1253332336,"3":0.1873813146,"4":0.2486898872},"slower":{"0":null,"1":null,"2":null,"3":null,"4":null},"supper":{"0":null,"1":null,"2":null,"3":null,"4":null}}\n'


def test_task_22_prompt_is_the_benchmarks_byte_for_byte():
    task = next(t for t in load_tasks().tasks if t.id == "22")
    prompt = user_prompt(task.plot_description, task.plot_style, "matplotlib", describe_data(task.data_csv))
    assert prompt == TASK_22_MATPLOTLIB
    messages = request_messages(task.plot_description, task.plot_style, "matplotlib", describe_data(task.data_csv))
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == INSTRUCTS["system_prompt"]


def test_setup_suffixes_join_without_a_space():
    assert setup_text("matplotlib").endswith("packages.DO NOT use seaborn for plotting. Only pure matplotlib. ")
    assert setup_text("seaborn").endswith("packages.")
    assert "seaborn with its subsidiary libraries" in setup_text("seaborn")
    assert setup_text("plotly").endswith("packages.DO NOT use matplotlib for plotting. Only plotly library. ")


def test_data_description_names_text_columns_as_pandas_2_did_and_is_capped():
    text = describe_data("name,value\na,1\nb,2\n")
    assert "Column names and types: name: object, value: int64" in text
    assert "DataFrame with 2 columns and 2 rows" in text
    wide = ",".join(f"column_{i}" for i in range(400)) + "\n" + ",".join("1" for _ in range(400)) + "\n"
    assert len(describe_data(wide)) == 4000


def test_a_csv_that_does_not_parse_is_a_data_error():
    with pytest.raises(DataError, match="data_csv does not parse"):
        describe_data("")


def test_shipped_tasks_load_in_id_order_and_limit():
    tasks = load_tasks()
    assert len(tasks.tasks) == 99 and "30" not in [t.id for t in tasks.tasks]
    assert [t.id for t in load_tasks(limit=3).tasks] == ["0", "1", "2"]
    assert all(t.plot_gt is None and t.code_data is None for t in tasks.tasks)


def test_tasks_from_parquet_written_by_pandas_with_ground_truth(tmp_path):
    import base64

    import pandas as pd

    png = b"\x89PNG\r\n\x1a\nfake"
    pd.DataFrame({"id": [3, 1], "data_csv": ["a\n1\n", "a\n2\n"], "task__plot_description": ["d3", "d1"],
                  "task__plot_style": ["s3", "s1"], "code_data": ["import pandas as pd\ndf = pd.read_csv('data.csv')", None],
                  "plots_gt": [[base64.b64encode(png).decode()], []]}).to_parquet(tmp_path / "t.parquet")
    tasks = load_tasks(tmp_path / "t.parquet").tasks
    assert [t.id for t in tasks] == ["1", "3"]
    assert tasks[1].plot_gt == png and tasks[0].plot_gt is None
    assert tasks[1].code_data.startswith("import pandas") and tasks[0].code_data is None


@pytest.mark.parametrize("content, message", [
    ('{"id": 1, "data_csv": "a"}\n', "missing column(s) task__plot_description, task__plot_style"),
    (('{"id": 1, "data_csv": "a", "task__plot_description": "d", "task__plot_style": "s"}\n'
     '{"id": 1, "data_csv": "a", "task__plot_description": "d", "task__plot_style": "s"}\n'), "more than once: 1"),
    ("not json\n", "not valid JSON"),
])
def test_bad_tasks_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "tasks.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_tasks(path)


def test_extraction_takes_the_first_block_and_applies_viscoders_rewrites():
    reply = ("Sure.\n```python\nimport pandas as pd\ndf = pd.read_csv(\"data.csv\")\nx = np.arange(3)\n"
             "plt.savefig('out.png', dpi=100)\nfig.write_image('a.png')\n```\nAnd another:\n```python\nprint(2)\n```")
    assert extract_code(reply) == ("import numpy as np\nimport pandas as pd\n#\nx = np.arange(3)\nplt.show()\n"
                                   "fig.show()")


def test_extraction_without_a_block_strips_special_tokens_and_unwraps_guarded_show():
    reply = "import plotly.express as px\ntry:\n    fig.show()\nexcept Exception:\n    pass<|endoftext|>"
    assert extract_code(reply) == "import plotly.express as px\nfig.show()\n"
    assert extract_code("```python\nprint(1)") == "print(1)"  # an answer cut off inside its block


def test_judge_prompt_is_fresh_per_item_and_scores_parse_like_the_benchmark():
    first = task_judge_messages("task one", "style one", [b"png1"])
    second = task_judge_messages("task two", "style two", [b"png2", b"png3"])
    assert "task one" not in json.dumps(second)
    assert second[1]["content"][0]["text"].endswith("[PLOT TASK]:\ntask two\nstyle two")
    assert [p["type"] for p in second[1]["content"]] == ["text", "image_url", "image_url"]
    assert first[1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parse_score("85") == 85
    assert parse_score("blah [FINAL SCORE]: 40 then [FINAL SCORE]: 70") == 70
    assert parse_score("[FINAL SCORE] 55") == 55
    assert parse_score("no score here") is None
    assert parse_score("[FINAL SCORE]: 400") is None
