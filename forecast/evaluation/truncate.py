"""The data as it stood at a forecast origin, and the observations that score the forecast.

An origin is a bin index i of the data's axis: the forecast is made on the first day of
bin i, knowing only what had happened before it.

- fitted (and check) rows are kept only when they were published before that day (a
  real-time, or vintage, evaluation: a figure published after the origin was not known to
  the forecaster even when its span lies before it); every row is published on or after the
  end of its span, so a row straddling the origin is dropped too;
- events are kept when dated before the origin; an end date on or after the origin is
  removed (the event is then open, as any ongoing event is for the model);
- presence and covariates are cut to the bins before the origin (the axis is shortened).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from forecast.data.dataset import Dataset
from forecast.timeaxis import TimeAxis


def origin_day(dataset: Dataset, origin: int) -> pd.Timestamp:
    return pd.Timestamp(dataset.axis.starts[origin])


def truncate(dataset: Dataset, origin: int) -> Dataset:
    """`dataset` as known on the first day of bin `origin` (1 <= origin < axis.n)."""
    if not 1 <= origin < dataset.axis.n:
        raise ValueError(f"origin bin {origin} is outside 1..{dataset.axis.n - 1}")
    day = origin_day(dataset, origin)
    obs = dataset.observations
    # a row without a publication date counts as published at the end of its span
    published = obs["published"].fillna(obs["end"]) if "published" in obs else obs["end"]
    known = published < day
    obs = obs[known & (obs["end"] < day)].reset_index(drop=True)
    events = dataset.events
    events = events[events["date"] < day].copy()
    if "end_date" in events:
        late = events["end_date"].notna() & (events["end_date"] >= day)
        events.loc[late, "end_date"] = pd.NaT
    events = events.reset_index(drop=True)
    presence = None if dataset.presence is None else np.asarray(dataset.presence)[:origin].copy()
    covariates = dataset.covariates
    if not covariates.empty:
        covariates = covariates.iloc[:origin].reset_index(drop=True)
    basis = dataset.presence_basis[:origin] if dataset.presence_basis else dataset.presence_basis
    by_region = {}
    for name in ("presence_by_region", "presence_low_by_region", "presence_high_by_region"):
        array = getattr(dataset, name)
        by_region[name] = None if array is None else np.asarray(array)[:origin].copy()
    return replace(dataset, name=f"{dataset.name}@{dataset.axis.labels[origin]}",
                   axis=TimeAxis(dataset.axis.freq, dataset.axis.start, origin), observations=obs,
                   events=events, presence=presence, covariates=covariates, presence_basis=basis,
                   **by_region)


def targets(dataset: Dataset, origin: int, horizon: int) -> pd.DataFrame:
    """Fitted rows whose whole span lies in bins origin .. origin+horizon-1, with their step.

    `step` is the number of bins from the origin to the bin of the row's last day (1..H);
    `first_bin`/`last_bin` are axis indices, `bins` the span length in bins (sum of weights).
    """
    axis = dataset.axis
    last = min(origin + horizon, axis.n) - 1
    first_day = pd.Timestamp(axis.starts[origin])
    last_day = pd.Timestamp(axis.ends[last])
    fitted = dataset.fitted
    rows = fitted[(fitted["start"] >= first_day) & (fitted["end"] <= last_day)].copy()
    if rows.empty:
        return rows.assign(step=pd.Series(dtype=int), first_bin=pd.Series(dtype=int),
                           last_bin=pd.Series(dtype=int), bins=pd.Series(dtype=float))
    rows["first_bin"] = [axis.index_of(d) for d in rows["start"]]
    rows["last_bin"] = [axis.index_of(d) for d in rows["end"]]
    rows["step"] = rows["last_bin"] - origin + 1
    rows["bins"] = dataset.weights(rows).sum(axis=1)
    return rows.sort_values(["step", "definition", "start"]).reset_index(drop=True)
