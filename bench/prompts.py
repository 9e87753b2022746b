"""Requests exactly as PandasPlotBench builds them (its `instructs.json`, the `head` data
description, the order and numbering of the parts), so scores compare with published tables.

The texts are the benchmark's own, quirks included (the system prompt names matplotlib for every
library; the setup and its suffix join without a space). The chat template is the model's own:
these are role messages, never a hard-coded header format.
"""

from __future__ import annotations

import base64
import io
import json
import re
import warnings
from pathlib import Path

from viscode.errors import InputError, first_line

INSTRUCTS: dict[str, str] = json.loads((Path(__file__).parent / "data" / "instructs.json").read_text(encoding="utf-8"))
LIBRARIES = ("matplotlib", "seaborn", "plotly")
DESCRIPTION_LIMIT = 4000  # characters of the data description the benchmark keeps
GOOD_SCORE = 75
_SCORE = re.compile(r".*\[FINAL SCORE]:? ?(\d+)", re.DOTALL)  # greedy: the last score given wins


class DataError(InputError):
    """A task's CSV cannot be read as a DataFrame; the task is recorded and skipped."""


def setup_text(library: str) -> str:
    base = INSTRUCTS["setup_instruct"].replace("[PLOTLIB]", library)
    if library == "matplotlib":
        return base + "DO NOT use seaborn for plotting. Only pure matplotlib. "
    if library == "seaborn":
        return base
    return base + f"DO NOT use matplotlib for plotting. Only {library} library. "


def describe_data(data_csv: str) -> str:
    """The benchmark's `head` descriptor of `pd.read_csv(data.csv)`, cut at 4000 characters.

    Column types are named as the benchmark's pandas 2 named them: text columns are `object`
    (pandas 3 says `str`), so prompts stay byte-identical across pandas versions.
    """
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = pd.read_csv(io.StringIO(data_csv))
    except (ValueError, OverflowError) as exc:  # ParserError, EmptyDataError, bad encodings: the task's fault
        raise DataError(f"data_csv does not parse ({type(exc).__name__}: {first_line(exc)})") from None
    types = ", ".join(f"{name}: {_dtype_name(dtype)}" for name, dtype in df.dtypes.items())
    head = df.head().to_json()
    text = (f"{INSTRUCTS['data_instruct']}\nDataFrame with {df.shape[1]} columns and {df.shape[0]} rows\n"
            f"Column names and types: {types}\nHead:\n{head}")
    return text[:DESCRIPTION_LIMIT]


def _dtype_name(dtype) -> str:
    name = str(dtype)
    return "object" if name in ("str", "string") else name


def user_prompt(plot_description: str, plot_style: str, library: str, data_description: str) -> str:
    parts = [p for p in (plot_description, plot_style, setup_text(library), data_description) if p]
    text = INSTRUCTS["plot_instruct"] + "\n" + "".join(f"{i}. {p.lstrip()}\n" for i, p in enumerate(parts, 1))
    return text.replace("\n\n", "\n")


def request_messages(plot_description: str, plot_style: str, library: str, data_description: str) -> list[dict]:
    """The first-round conversation: the benchmark's system prompt and its user prompt."""
    return [{"role": "system", "content": INSTRUCTS["system_prompt"]},
            {"role": "user", "content": user_prompt(plot_description, plot_style, library, data_description)}]


def _image_part(png: bytes) -> dict:
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}


def task_judge_messages(plot_description: str, plot_style: str, images: list[bytes]) -> list[dict]:
    """One fresh prompt per item (the original accumulated every earlier item's task into it),
    with all generated images."""
    text = "\n".join([INSTRUCTS["judge_instruct_task"], "[PLOT TASK]:", plot_description, plot_style])
    return [{"role": "system", "content": INSTRUCTS["system_prompt"]},
            {"role": "user", "content": [{"type": "text", "text": text}, *(_image_part(p) for p in images)]}]


def visual_judge_messages(generated: bytes, ground_truth: bytes) -> list[dict]:
    """The generated plot first, the ground truth second, as the instruction says."""
    return [{"role": "system", "content": INSTRUCTS["system_prompt"]},
            {"role": "user", "content": [{"type": "text", "text": INSTRUCTS["judge_instruct_vis"]},
                                         _image_part(generated), _image_part(ground_truth)]}]


def parse_score(reply: str) -> int | None:
    """A bare number, else the number after the last `[FINAL SCORE]`; None when there is none
    or it is off the 0-100 scale."""
    text = reply.strip()
    if text.isdigit():
        score = int(text)
    elif match := _SCORE.match(text):
        score = int(match.group(1))
    else:
        return None
    return score if 0 <= score <= 100 else None
