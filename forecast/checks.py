"""Posterior predictive checks of every observation, fitted and check rows alike (checks.csv).

For each row: the probability the fitted model gives the reported interval [lo, hi] of its
span, the tail probability min(P(Y <= hi), P(Y >= lo)), and the predictive median. These are
exact mixtures over the posterior draws (no simulation noise). A row lies outside the central
95% of its predictive when its tail probability is below 0.025.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.predictive import quantiles
from forecast.families import Family

OUTSIDE_95 = 0.025


def checks_table(family: Family, posterior: xr.Dataset) -> pd.DataFrame:
    """One row per observation of the family's data, fitted and check."""
    obs = family.dataset.observations.reset_index(drop=True)
    predictives = family.observation_predictives(posterior, obs)
    rows = []
    for row, dist in zip(obs.itertuples(index=False), predictives):
        lo, hi = float(row.lo), float(row.hi) if not pd.isna(row.hi) else math.inf
        record = {"id": row.id, "use": row.use, "definition": row.definition,
                  "start": pd.Timestamp(row.start).date().isoformat(),
                  "end": pd.Timestamp(row.end).date().isoformat(), "bound": row.bound,
                  "lo": int(lo), "hi": hi}
        if dist is None:
            record.update({"predicted_median": np.nan, "p_inside": np.nan, "tail_probability": np.nan,
                           "outside_central_95": False,
                           "note": f"not predicted: {family.unpredicted_reason}"})
        else:
            below = float(dist.cdf(hi)) if math.isfinite(hi) else 1.0
            above = 1.0 - float(dist.cdf(lo - 1)) if lo > 0 else 1.0
            tail = min(below, above)
            record.update({"predicted_median": int(quantiles(dist, np.array([0.5]))[0]),
                           "p_inside": math.exp(dist.log_interval(lo, hi)),
                           "tail_probability": tail, "outside_central_95": tail < OUTSIDE_95, "note": ""})
        rows.append(record)
    return pd.DataFrame(rows)


def worst_checks(table: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """The rows the model predicts worst (smallest tail probability first)."""
    return table.dropna(subset=["tail_probability"]).nsmallest(n, "tail_probability")
