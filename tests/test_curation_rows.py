"""The row-building expressions give what the Python functions they stand for give."""

from __future__ import annotations

import polars as pl
from viscode.curation.decide import stable_fraction, stable_fraction_of
from viscode.curation.rows import single_turns

from viscode.selfdebug import code_block

CODES = ["x = 1", "\n\nx = 1\n\n", "x = 1\r\n", "  x = 1  \n", "", "\n", "a\n\nb\n", "é = '\\n'\n"]


def test_single_turns_fence_the_code_as_self_debug_does():
    frame = pl.DataFrame({"instruction": [f"task {i}" for i in range(len(CODES))], "code": CODES})
    messages = frame.select(single_turns()).to_series().to_list()
    assert messages == [[{"role": "user", "content": f"task {i}"}, {"role": "assistant", "content": code_block(c)}]
                        for i, c in enumerate(CODES)]


def test_stable_fraction_of_a_column_is_the_fraction_of_each_value():
    ids = ["a", "snippet-1", "é", "", "x" * 300]
    got = pl.DataFrame({"id": ids}).select(stable_fraction_of("id", "split")).to_series().to_list()
    assert got == [stable_fraction(i, "split") for i in ids]
