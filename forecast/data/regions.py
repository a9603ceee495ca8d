"""Regions: the places the data name, and which of them each observation counts.

A region is a name the data give (bundled: iraq, syria, jordan). An observation's
`region` cell names the regions it counts, joined by '+' ("iraq+syria"); an empty cell
counts every region. Data that name no region have one region, ALL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from forecast.errors import InputError, did_you_mean

ALL = "all"
# TOML bare keys, so that a scenario can write [presence.<region>]; starting with a letter
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
# words a region may not be called: they are column names of the presence files or keys
# of a scenario's presence table
RESERVED = ("points", "presence", "month", "date", "basis", "count", "series", "published")


def check_region_name(name: str, source: str | Path, where: str) -> str:
    """One region name, as written in a data file or a scenario."""
    if not NAME_RE.match(name):
        raise InputError(source, f"region {name!r} is not a name: expected a letter, then letters, "
                         "digits, _ or - (at most 40), e.g. iraq", where=where)
    if name in RESERVED:
        raise InputError(source, f"{name!r} cannot name a region (it is a column or key name)",
                         where=where)
    return name


def parse_region_set(text: str, source: str | Path, where: str) -> tuple[str, ...]:
    """The regions a cell names ('iraq+syria'); () for an empty cell (every region)."""
    text = text.strip()
    if not text:
        return ()
    names = [part.strip() for part in text.split("+")]
    for name in names:
        if not name:
            raise InputError(source, f"region {text!r} has an empty part; expected names joined by "
                             "'+', e.g. iraq+syria", where=where)
        check_region_name(name, source, where)
    if len(set(names)) != len(names):
        raise InputError(source, f"region {text!r} names a region twice", where=where)
    return tuple(names)


def check_known(names: Iterable[str], regions: Sequence[str], source: str | Path, where: str) -> None:
    """Every name must be one of `regions` (the data's), else a did-you-mean error."""
    for name in names:
        if name not in regions:
            raise InputError(source, f"unknown region {name!r}{did_you_mean(name, regions)}; the "
                             f"presence data have regions {', '.join(regions)}", where=where)


def regions_named(cells: Iterable[str]) -> list[str]:
    """Every region the cells name, in order of first appearance."""
    seen: dict[str, None] = {}
    for cell in cells:
        for name in str(cell).split("+"):
            if name.strip():
                seen[name.strip()] = None
    return list(seen)


def cover_matrix(cells: Iterable[str], regions: Sequence[str]) -> np.ndarray:
    """(rows x regions) 0/1: which regions each row counts (an empty cell: all of them).

    In a dataset with the single region ALL every row counts it, whatever its cell says.
    """
    cells = list(cells)
    out = np.zeros((len(cells), len(regions)))
    if list(regions) == [ALL]:
        out[:] = 1.0
        return out
    index = {name: j for j, name in enumerate(regions)}
    for i, cell in enumerate(cells):
        names = [n.strip() for n in str(cell).split("+") if n.strip()]
        if not names:
            out[i] = 1.0
            continue
        for name in names:
            if name not in index:
                raise ValueError(f"row {i} names region {name!r}, not one of {list(regions)}")
            out[i, index[name]] = 1.0
    return out


def sets_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Do two region sets share a region? An empty set is every region."""
    return not a or not b or bool(set(a) & set(b))
