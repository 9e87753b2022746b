"""The row-building expressions give what the Python functions they stand for give."""

from __future__ import annotations

import polars as pl
from viscode.curation.rows import single_turns

from viscode.selfdebug import code_block

CODES = ["x = 1", "\n\nx = 1\n\n", "x = 1\r\n", "  x = 1  \n", "", "\n", "a\n\nb\n", "é = '\\n'\n"]


def test_single_turns_fence_the_code_as_self_debug_does():
    frame = pl.DataFrame({"instruction": [f"task {i}" for i in range(len(CODES))], "code": CODES})
    messages = frame.select(single_turns()).to_series().to_list()
    assert messages == [[{"role": "user", "content": f"task {i}"}, {"role": "assistant", "content": code_block(c)}]
                        for i, c in enumerate(CODES)]

