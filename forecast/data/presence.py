"""Troop presence by region: the wide presence file, and presence aligned to a time axis.

The wide layout (the bundled presence.csv) has one row per month and one column per region:

    month,iraq,syria,jordan[,<region>_low,<region>_high][,presence][,presence_low,presence_high][,basis]

Values are thousands of troops, 0 for none (no US forces there, so no attacks on them).
`presence` is the total the current model uses; without it, the sum of the regions.
`<region>_low`/`<region>_high` bound a region's figure where sources disagree (empty where
they agree). A file without region columns has the single region 'all' (its `presence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.readers import check_text, parse_date, parse_number, read_csv
from forecast.data.regions import ALL, check_region_name
from forecast.errors import InputError
from forecast.timeaxis import TimeAxis

TOTAL = "presence"
NOT_REGIONS = ("month", "date", TOTAL, "presence_low", "presence_high", "basis")


@dataclass(frozen=True)
class RegionalPresence:
    """Presence per month and region, as read (months consecutive, in order)."""

    months: list[pd.Timestamp]
    regions: list[str]
    values: np.ndarray          # (months x regions)
    low: np.ndarray             # (months x regions), NaN where no range is given
    high: np.ndarray
    total: np.ndarray           # (months,)
    basis: list[str]

    def on_axis(self, axis: TimeAxis, source: str | Path) -> RegionalPresence:
        """The same presence on `axis` (monthly), which it must cover month by month."""
        if axis.freq != "month":
            raise InputError(source, "a presence file gives monthly figures; with weekly counts give "
                             "presence per row in the counts file instead")
        index = {m: i for i, m in enumerate(self.months)}
        missing = [label for label, start in zip(axis.labels, axis.starts)
                   if pd.Timestamp(start) not in index]
        if missing:
            raise InputError(source, f"no presence for {missing[0]} (the data run {axis.labels[0]}.."
                             f"{axis.labels[-1]}); give a value for every month", where="column 'month'")
        rows = [index[pd.Timestamp(start)] for start in axis.starts]
        return RegionalPresence([self.months[i] for i in rows], self.regions, self.values[rows],
                                self.low[rows], self.high[rows], self.total[rows],
                                [self.basis[i] for i in rows])


def _range_columns(columns: list[str], regions: list[str], path: Path) -> None:
    for col in columns:
        for suffix in ("_low", "_high"):
            if col.endswith(suffix) and col not in ("presence_low", "presence_high"):
                base = col[: -len(suffix)]
                if base not in regions:
                    raise InputError(path, f"column '{col}' bounds region '{base}', which has no "
                                     f"column of its own; regions are {', '.join(regions) or 'none'}",
                                     where="row 1 (header)")


def load_presence_wide(path: str | Path) -> RegionalPresence:
    """A presence file in the wide layout (see the module docstring), validated cell by cell."""
    path = Path(path)
    frame = read_csv(path, required=(), allow_extra=True)
    date_col = "month" if "month" in frame.columns else "date" if "date" in frame.columns else None
    if date_col is None:
        raise InputError(path, "missing column 'month'; a presence file has a month column and one "
                         "column per region (e.g. month,iraq,syria)", where="row 1 (header)")
    columns = list(frame.columns)
    regions = [c for c in columns if c not in NOT_REGIONS and not c.endswith(("_low", "_high"))]
    for col in regions:
        check_region_name(col, path, "row 1 (header)")
    _range_columns(columns, regions, path)
    if not regions and TOTAL not in columns:
        raise InputError(path, "no presence columns: expected one column per region (e.g. iraq,syria) "
                         "or a 'presence' column", where="row 1 (header)")
    # a day names its month
    months = [parse_date(v, path, i, date_col).to_period("M").to_timestamp()
              for i, v in enumerate(frame[date_col], start=2)]
    for i, (a, b) in enumerate(zip(months, months[1:]), start=3):
        if b != a + pd.offsets.MonthBegin(1):
            raise InputError(path, f"months must run consecutively, one row each; {b:%Y-%m} follows "
                             f"{a:%Y-%m}", where=f"row {i}, column '{date_col}'")
    n = len(months)
    names = regions or [ALL]
    values = np.full((n, len(names)), np.nan)
    low, high = np.full_like(values, np.nan), np.full_like(values, np.nan)
    for j, region in enumerate(names):
        col = region if regions else TOTAL
        for i, text in enumerate(frame[col], start=2):
            if not text.strip():
                raise InputError(path, f"no presence for region '{col}' in {months[i - 2]:%Y-%m}; give a "
                                 "value in every month (0 for no troops)", where=f"row {i}, column '{col}'")
            values[i - 2, j] = parse_number(text, path, i, col, minimum=0.0)
        bounds = (f"{region}_low", f"{region}_high") if regions else ("presence_low", "presence_high")
        for target, col in zip((low, high), bounds):
            if col not in columns:
                continue
            for i, text in enumerate(frame[col], start=2):
                if text.strip():
                    target[i - 2, j] = parse_number(text, path, i, col, minimum=0.0)
        for i in range(n):
            lo, hi, v = low[i, j], high[i, j], values[i, j]
            if (not np.isnan(lo) and lo > v) or (not np.isnan(hi) and hi < v):
                raise InputError(path, f"the range {lo:g}..{hi:g} of region '{region}' does not "
                                 f"contain its value {v:g}",
                                 where=f"row {i + 2}, columns {', '.join(bounds)}")
    if TOTAL in columns:
        total = np.array([parse_number(v, path, i, TOTAL, minimum=0.0)
                          for i, v in enumerate(frame[TOTAL], start=2)])
    else:
        total = values.sum(axis=1)
    basis = [check_text(b, path, i, "basis", max_len=2000)
             for i, b in enumerate(frame.get("basis", pd.Series([""] * n)), start=2)]
    return RegionalPresence(months, names, values, low, high, total, basis)
