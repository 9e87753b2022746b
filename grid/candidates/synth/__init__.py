"""Synthetic plotting programs: a candidate source for scale tests, demos and training data.

A program is composed from small templates: one chart kind drawn with one plotting
library (matplotlib's pyplot or object API, seaborn, plotly express or graph_objects,
pandas `.plot`), data of a themed shape (inline literals or a seeded numpy generator;
arrays, wide or long frames), a few style choices and one of three layouts. A share
of programs carries exactly one realistic fault that makes it raise, so whatever runs
them sees failures as well as figures.

Program i of seed S depends on (S, i) alone: any slice can be generated on its own,
and every machine produces the same bytes in the same order.
"""

from __future__ import annotations

import ast
import os
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from viscode.grid.candidates.writer import CandidateWriter

from viscode.codetext import code_id, plotting_libraries
from viscode.errors import InputError
from viscode.progress import Progress

from .builders import Prog
from .faults import FAULTS, plant
from .matplotlib_charts import matplotlib_program
from .pandas_charts import pandas_program
from .plotly_charts import plotly_express_program, plotly_go_program
from .seaborn_charts import seaborn_program
from .themes import THEMES

LICENCE = "Apache-2.0"  # generated programs are this project's own work, under its licence
PROGRESS_EVERY = 5000
BLOCK, PARALLEL_FROM = 2000, 20_000  # programs per process-pool task; fewer than this run in-process


_KINDS = {
    "pyplot": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
               "errorbar", "3d", "contour", "density", "stacked_bar", "grouped_bar", "subplots"),
    "mpl_oo": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
               "errorbar", "3d", "contour", "density", "stacked_bar", "grouped_bar", "subplots"),
    "seaborn": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "density", "grouped_bar",
                "errorbar", "step", "subplots"),
    "plotly_express": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
                       "errorbar", "3d", "density", "stacked_bar", "grouped_bar", "subplots"),
    "plotly_go": ("line", "bar", "barh", "scatter", "hist", "box", "violin", "heatmap", "pie", "area", "step",
                  "errorbar", "3d", "contour", "density", "stacked_bar", "grouped_bar", "subplots"),
    "pandas": ("line", "bar", "barh", "scatter", "hist", "box", "pie", "area", "step", "errorbar", "density",
               "stacked_bar", "grouped_bar", "subplots"),
}
_FAMILIES = tuple(_KINDS)
_FAMILY_WEIGHTS = (20, 20, 18, 16, 12, 14)


def _row(seed: int, index: int, fault_rate: float) -> dict:
    """Program `index` of `seed`: every choice comes from one generator seeded by both."""
    r = random.Random(f"{seed}:{index}")
    faulty = r.random() < fault_rate
    preferred = r.choice(FAULTS)
    family = r.choices(_FAMILIES, _FAMILY_WEIGHTS)[0]
    kind = r.choice(_KINDS[family])
    b = Prog(r, r.choice(THEMES), r.random() < 0.4,
             r.random() < 0.2 or (faulty and preferred == "wrong_dtype"))
    b.kind = kind
    if family in ("pyplot", "mpl_oo"):
        matplotlib_program(b, family == "mpl_oo")
    elif family == "seaborn":
        seaborn_program(b)
    elif family == "plotly_express":
        plotly_express_program(b)
    elif family == "plotly_go":
        plotly_go_program(b)
    else:
        pandas_program(b)
    origin = "inline" if b.inline else "generated"
    fault = plant(b, preferred) if faulty else None
    code = b.assemble()
    return {"id": code_id(code), "code": code, "source": f"synth:{seed}:{index}",
            "libraries": plotting_libraries(ast.parse(code)),
            "chart_kind": kind, "data_origin": origin, "fault": fault, "licence": LICENCE}


def synthesize(count: int, seed: int = 0, *, fault_rate: float = 0.15, start: int = 0) -> Iterator[dict]:
    """Rows for programs start..start+count-1 of this seed."""
    if count < 0 or start < 0:
        raise InputError(f"count and start must be >= 0, got count={count} start={start}")
    if not 0 <= fault_rate <= 1:
        raise InputError(f"fault_rate must be between 0 and 1, got {fault_rate}")
    return (_row(seed, i, fault_rate) for i in range(start, start + count))


def _block(start: int, count: int, seed: int, fault_rate: float) -> list[dict]:
    return list(synthesize(count, seed, fault_rate=fault_rate, start=start))


def _in_parallel(count: int, seed: int, fault_rate: float) -> Iterator[dict]:
    """The same rows as `synthesize`, in order; big runs use every CPU (each program
    depends only on seed and index, so blocks are independent)."""
    workers = len(os.sched_getaffinity(0))
    if count < PARALLEL_FROM or workers == 1:
        yield from synthesize(count, seed, fault_rate=fault_rate)
        return
    starts = range(0, count, BLOCK)
    sizes = [min(BLOCK, count - s) for s in starts]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for rows in pool.map(_block, starts, sizes, [seed] * len(sizes), [fault_rate] * len(sizes)):
            yield from rows


def write_synth(output: Path, count: int, seed: int = 0, *, fault_rate: float = 0.15, force: bool = False,
                on_progress: Progress | None = None) -> dict:
    """Write candidate shards + manifest to `output` with the candidate writer; returns the manifest."""
    if count < 1:
        raise InputError(f"count must be >= 1, got {count}")
    if not 0 <= fault_rate <= 1:
        raise InputError(f"fault_rate must be between 0 and 1, got {fault_rate}")
    writer = CandidateWriter(Path(output), command=f"candidates synth --count {count} --seed {seed}",
                             config={"count": count, "seed": seed, "fault_rate": fault_rate}, force=force)
    if writer.finished:  # the same programs are already there
        return writer.finished
    seen: set[str] = set()
    counts = {"generated": 0, "faulty": 0, "duplicate": 0}
    for n, row in enumerate(_in_parallel(count, seed, fault_rate), 1):
        counts["generated"] += 1
        if row["id"] in seen:
            counts["duplicate"] += 1
        else:
            seen.add(row["id"])
            counts["faulty"] += row["fault"] is not None
            writer.add(row)
        if on_progress and n % PROGRESS_EVERY == 0:
            on_progress("synth", n, count)
    if on_progress and count % PROGRESS_EVERY:
        on_progress("synth", count, count)
    return writer.close(counts)
