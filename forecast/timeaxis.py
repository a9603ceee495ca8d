"""Time bins of a series (calendar months or weeks) and day-spans mapped onto them.

An observation covers a span of days [start, end] (inclusive). Its expected count is
the sum over bins of (fraction of the bin's days inside the span) x (rate of the bin),
so a Pentagon tally from 17 October to 23 November counts half of October and most of
November. Whole-bin spans have weight 1 in each bin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

FREQUENCIES = ("month", "week")


@dataclass(frozen=True)
class TimeAxis:
    """Consecutive bins: `freq` is 'month' or 'week'; `start` is the first bin's first day."""

    freq: str
    start: pd.Timestamp
    n: int

    def __post_init__(self) -> None:
        if self.freq not in FREQUENCIES:
            raise ValueError(f"freq must be one of {FREQUENCIES}, got {self.freq!r}")
        if self.n < 1:
            raise ValueError("a time axis needs at least one bin")

    # cached: an axis is immutable, and the scenario engine asks for these many times
    @cached_property
    def starts(self) -> pd.DatetimeIndex:
        """First day of each bin."""
        if self.freq == "month":
            return pd.date_range(self.start, periods=self.n, freq="MS")
        return pd.date_range(self.start, periods=self.n, freq="7D")

    @cached_property
    def ends(self) -> pd.DatetimeIndex:
        """Last day of each bin (inclusive)."""
        if self.freq == "month":
            return self.starts + pd.offsets.MonthEnd(0)
        return self.starts + pd.Timedelta(days=6)

    @cached_property     # built once: loaders look labels up row by row
    def labels(self) -> list[str]:
        fmt = "%Y-%m" if self.freq == "month" else "%Y-%m-%d"
        return [d.strftime(fmt) for d in self.starts]

    @property
    def days(self) -> np.ndarray:
        return ((self.ends - self.starts).days + 1).to_numpy()

    def extend(self, n_more: int) -> TimeAxis:
        """The bins that follow this axis (a forecast horizon)."""
        return TimeAxis(self.freq, self.next_start(), n_more)

    def next_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.ends[-1]) + pd.Timedelta(days=1)

    def index_of(self, date: pd.Timestamp) -> int:
        """Bin index containing `date` (may be < 0 or >= n when outside the axis)."""
        date = pd.Timestamp(date)
        if self.freq == "month":
            return (date.year - self.start.year) * 12 + (date.month - self.start.month)
        return int((date - self.start).days // 7)

    def span_weights(self, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """Fraction of each bin's days that falls inside [start, end]."""
        starts = self.starts.to_numpy()
        ends = self.ends.to_numpy()
        lo = np.maximum(starts, np.datetime64(pd.Timestamp(start)))
        hi = np.minimum(ends, np.datetime64(pd.Timestamp(end)))
        covered = (hi - lo).astype("timedelta64[D]").astype(int) + 1
        return np.clip(covered, 0, None) / self.days

    def fraction_after(self, date: pd.Timestamp) -> np.ndarray:
        """Share of each bin on or after `date`: 0 before it, partial in its bin, 1 after."""
        return self.span_weights(pd.Timestamp(date), pd.Timestamp(self.ends[-1]))

    def bins_since(self, date: pd.Timestamp) -> np.ndarray:
        """Bins elapsed since the bin containing `date` (negative before it)."""
        return np.arange(self.n) - self.index_of(date)


def month_axis(first: str | pd.Timestamp, last: str | pd.Timestamp) -> TimeAxis:
    """Monthly axis covering the months of `first` through `last`."""
    first = pd.Timestamp(first).to_period("M").to_timestamp()
    last = pd.Timestamp(last).to_period("M").to_timestamp()
    n = (last.year - first.year) * 12 + (last.month - first.month) + 1
    return TimeAxis("month", first, n)
