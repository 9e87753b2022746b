"""Deliberate faults: planting one in a program at a place its builder recorded, with the kinds,
wrong names and keyword typos of the shared fault vocabulary (viscode/faults.py). Every fault
makes the program raise in the pinned library versions, so whatever runs them sees failures as
well as figures."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

from viscode.faults import SYNTH_KINDS, SYNTH_KWARG_TYPOS, SYNTH_WRONG_NAMES

if TYPE_CHECKING:
    from .builders import Prog

FAULTS = SYNTH_KINDS  # the kinds a generated program can carry, in the order a preferred kind is drawn from


def wrong_name(r: random.Random, library: str, call: str) -> str:
    """A realistic misspelling of `library`'s plotting call `call`."""
    return r.choice(SYNTH_WRONG_NAMES[library][call])


def _misspell(r: random.Random, name: str) -> str:
    """A column name as people get it wrong: case, plural, a dropped underscore, a typo."""
    options = [name.capitalize() if name[0].islower() else name.lower(), name + "s", name + " "]
    if "_" in name:
        options.append(name.replace("_", ""))
    if len(name) > 3:
        j = r.randrange(1, len(name) - 2)
        swapped = name[:j] + name[j + 1] + name[j] + name[j + 2:]
        if swapped != name:
            options.append(swapped)
    return r.choice(options)


def plant(b: Prog, preferred: str) -> str | None:
    """Plant one fault: the preferred kind where this program has a place for it."""
    body = "\n".join(b.setup + b.data + b.plot + b.out)
    used = [line for line in b.imports if re.search(rf"(?<![\w.]){re.escape(line.split()[-1])}[.(]", body)]
    options: dict[str, list] = {k: v for k, v in b.sites.items() if v}
    if used:
        options["missing_import"] = used
    if b.mixes:
        options["mixed_libraries"] = b.mixes
    if not options:
        return None
    kind = preferred if preferred in options else b.r.choice(sorted(options))
    site = b.r.choice(options[kind])
    if kind == "missing_import":
        b.imports.remove(site)
    elif kind == "mixed_libraries":
        b.plot.append(site[0])
        if site[1]:
            b.imp(site[1])
    else:
        sec, i, old, new = site
        line = sec[i]
        if kind == "wrong_kwarg":
            typo = b.r.choice(SYNTH_KWARG_TYPOS[old]).replace("'", b.q)
            head = line[: len(line) - len(new)]
            sec[i] = f"{head}{'' if head.endswith('(') else ', '}{typo}{new}"
        elif kind == "wrong_column":
            sec[i] = line.replace(b.s(old), b.s(_misspell(b.r, old)), 1)
        else:
            sec[i] = line.replace(old, new, 1)
    return kind
