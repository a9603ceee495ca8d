"""Reference forecasts, fitted only on the data before the origin.

Each baseline gives the predictive distribution of a target's span total. History is taken
from the fitted rows of the target's own counting definition (so a baseline never needs a
reporting ratio). Every row counts as `count / bins` attacks per bin, where `bins` is its span
length in bins (sum of its bin weights) and `count` is the row's stated figure: the exact
count, the lower bound of an "at least" row, the stated value of an approximate row. Bounds are
therefore used at face value (lower bounds bias these baselines down; the model treats them
as intervals).

- zero: a point mass at 0;
- last_value: Poisson with mean L * (per-bin rate of the latest row of the definition), L the
  target's span length in bins; when that row is a total or a bound, its per-bin average or
  face value is carried forward;
- hist_mean: Poisson with mean L * (sum of counts / sum of bins) over all rows;
- negbin: negative binomial with the same mean and no covariates; its size is fitted by the
  method of moments on the single-bin rows (span 0.9-1.1 bins; Poisson if there are fewer than
  3 or no over-dispersion); a span of L bins is a sum of L independent bins: NB(L * size, p);
- tsb: Teunter-Syntetos-Babai intermittent-demand smoothing (alpha_demand = 0.2,
  alpha_probability = 0.1) over the definition's rows in time order, each row one period with
  its per-bin rate as the demand; the forecast per-bin mean p * z gives Poisson(L * p * z)
  (intervals from the Poisson). statsforecast's TSB could not be used: statsforecast 2.1.1
  requires pandas < 3, and this project pins pandas 3.1.1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.core.predictive import NegBinomial, PoissonMixture
from forecast.data.dataset import Dataset

BASELINES = ("zero", "last_value", "hist_mean", "negbin", "tsb")
POISSON_SIZE = 1e6
TSB_ALPHA_D = 0.2
TSB_ALPHA_P = 0.1


def history(dataset: Dataset, definition: str) -> pd.DataFrame:
    """Fitted rows of one definition with their span length and per-bin rate, by end date."""
    rows = dataset.fitted[dataset.fitted["definition"] == definition]
    if rows.empty:
        return rows.assign(bins=pd.Series(dtype=float), rate=pd.Series(dtype=float))
    rows = rows.assign(bins=dataset.weights(rows).sum(axis=1))
    rows = rows[rows["bins"] > 0]
    return rows.assign(rate=rows["count"] / rows["bins"]).sort_values("end", kind="stable")


def tsb_rate(rates: np.ndarray, alpha_d: float = TSB_ALPHA_D, alpha_p: float = TSB_ALPHA_P) -> float:
    """TSB forecast of the mean demand per period."""
    nonzero = rates[rates > 0]
    if nonzero.size == 0:
        return 0.0
    z = float(nonzero[0])
    p = float((rates > 0).mean())
    for r in rates:
        if r > 0:
            z = z + alpha_d * (r - z)
            p = p + alpha_p * (1 - p)
        else:
            p = p - alpha_p * p
    return p * z


def fit_baselines(dataset: Dataset) -> dict[str, dict[str, float]]:
    """Per definition, the parameters of every baseline (from the data before the origin)."""
    params = {}
    for definition in dataset.definitions:
        rows = history(dataset, definition)
        if rows.empty:
            continue
        mean = float(rows["count"].sum() / rows["bins"].sum())
        single = rows[(rows["bins"] > 0.9) & (rows["bins"] < 1.1)]["rate"].to_numpy()
        size = POISSON_SIZE
        if single.size >= 3:
            m, v = single.mean(), single.var(ddof=1)
            if v > m > 0:
                size = m * m / (v - m)
        params[definition] = {"last": float(rows["rate"].iloc[-1]), "mean": mean, "size": size,
                              "tsb": tsb_rate(rows["rate"].to_numpy())}
    return params


def predictive(name: str, params: dict[str, float], bins: float):
    """Predictive distribution of a span total of `bins` bins under baseline `name`."""
    if name == "zero":
        return PoissonMixture(0.0)
    if name == "last_value":
        return PoissonMixture(params["last"] * bins)
    if name == "hist_mean":
        return PoissonMixture(params["mean"] * bins)
    if name == "negbin":
        if params["size"] >= POISSON_SIZE:
            return PoissonMixture(params["mean"] * bins)
        return NegBinomial.from_mean(params["mean"] * bins, params["size"] * bins)
    if name == "tsb":
        return PoissonMixture(params["tsb"] * bins)
    raise ValueError(f"unknown baseline {name!r}")
