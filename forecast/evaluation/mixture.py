"""The backtest's LFO-weighted ensemble of two contenders: w F_1 + (1 - w) F_2.

Its weight at an origin depends on the scores of earlier origins, which other workers compute,
so the work is split:

- in the worker (`ingredients`), for every target, what the mixture's scores need from the two
  members: their log interval probabilities, their CDFs on a grid 0..K and at lo - 1, lo and
  0, and for exact counts the five
  expectations of the mixture's CRPS, estimated from the members' samples drawn with the
  origin's seeded generator (with the same V-statistic estimator as the members' own
  ensemble CRPS), and the uniform of the randomized PIT;
- in the main process, after gathering (`origin_weights`, `add_ensemble`): the weight of origin
  k by stacking (`pointwise_weights`) the two members' log predictive densities of the
  one-step-ahead targets of EARLIER origins that were published before origin k's first day
  (equal weights, said in the note, with fewer than `MIN_POINTS` of them), then the mixture's
  scores.

The mixture's CRPS, w E|X1-y| + (1-w) E|X2-y| - [w^2 E|X1-X1'| + (1-w)^2 E|X2-X2'|
+ 2 w (1-w) E|X1-X2|] / 2, equals w CRPS_1 + (1-w) CRPS_2 - w (1-w) D / 2 with D = 2 E|X1-X2|
- E|X1-X1'| - E|X2-X2'| (the energy distance, >= 0). The second form is used, with the members'
own CRPS from their records: the ensemble then scores exactly as a member at w = 1 or 0, and
Monte Carlo error enters only through D.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from forecast.core.predictive import COVER_COLUMNS, CRPS_SAMPLES, LEVELS, LOG_FLOOR, quantiles
from forecast.ensemble import pointwise_weights

NAME = "lfo_ensemble"
MIN_POINTS = 3
# K is the larger of the members' quantiles at the top coverage level (0.975): there the mixed
# CDF is >= 0.975 whatever the weight, so every mixture quantile a coverage needs is on the
# grid. A higher level would add nothing and, for a posterior with a few draws of huge mean,
# could make the grid millions of counts long.
GRID_QUANTILE = (1 + max(LEVELS)) / 2
CDF_CHUNK = 2048


def mean_abs_to(a: np.ndarray, b_sorted: np.ndarray) -> float:
    """Mean of |a_i - b_j| over all pairs (b sorted), in O((n + m) log m)."""
    cum = np.concatenate([[0.0], np.cumsum(b_sorted)])
    k = np.searchsorted(b_sorted, a, side="right")
    below = a * k - cum[k]
    above = (cum[-1] - cum[k]) - a * (b_sorted.size - k)
    return float((below + above).sum() / (a.size * b_sorted.size))


def mean_abs_within(a_sorted: np.ndarray) -> float:
    """Mean of |a_i - a_j| over all n^2 pairs (V-statistic, as scoringrules' crps_ensemble)."""
    n = a_sorted.size
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum((2 * i - n - 1) * a_sorted) / n**2)


def crps_expectations(d1, d2, y: float, rng: np.random.Generator,
                      n: int = CRPS_SAMPLES) -> dict[str, float]:
    """E|X1-y|, E|X2-y|, E|X1-X1'|, E|X2-X2'|, E|X1-X2| from n draws of each member."""
    a = np.sort(d1.sample(n, rng).astype(float))
    b = np.sort(d2.sample(n, rng).astype(float))
    return {"e1y": float(np.abs(a - y).mean()), "e2y": float(np.abs(b - y).mean()),
            "e11": mean_abs_within(a), "e22": mean_abs_within(b), "e12": mean_abs_to(a, b)}


def mixture_crps(w: float, e: dict[str, float]) -> float:
    """The CRPS of w F_1 + (1 - w) F_2 from the five expectations (the formula in full)."""
    v = 1.0 - w
    return (w * e["e1y"] + v * e["e2y"]
            - 0.5 * (w * w * e["e11"] + v * v * e["e22"] + 2 * w * v * e["e12"]))


def _cdf_grid(dist, k_max: int) -> np.ndarray:
    ks = np.arange(k_max + 1, dtype=float)
    return np.concatenate([np.atleast_1d(dist.cdf(ks[i:i + CDF_CHUNK]))
                           for i in range(0, ks.size, CDF_CHUNK)])


def ingredients(d1, d2, lo: float, hi: float, rng: np.random.Generator) -> dict[str, Any]:
    """What the scores of the mixture of predictives d1 and d2 need, for the target [lo, hi]."""
    k_max = int(max(quantiles(d1, np.array([GRID_QUANTILE]))[0],
                    quantiles(d2, np.array([GRID_QUANTILE]))[0]))
    out: dict[str, Any] = {
        "mean": (float(d1.mean), float(d2.mean)),
        "log_p": (float(d1.log_interval(lo, hi)), float(d2.log_interval(lo, hi))),
        "f0": (float(d1.cdf(0.0)), float(d2.cdf(0.0))),
        "grid": (_cdf_grid(d1, k_max), _cdf_grid(d2, k_max)),
    }
    if lo == hi:
        out["f_below"] = (float(d1.cdf(lo - 1)), float(d2.cdf(lo - 1)))
        out["f_at"] = (float(d1.cdf(lo)), float(d2.cdf(lo)))
        out["crps"] = crps_expectations(d1, d2, lo, rng)
        out["v"] = float(rng.random())
    return out


def _mix(w: float, pair) -> float:
    return w * pair[0] + (1.0 - w) * pair[1]


def mixture_scores(mix: dict[str, Any], w: float, lo: float, hi: float, crps1: float = math.nan,
                   crps2: float = math.nan) -> dict[str, float]:
    """The scores of w F_1 + (1 - w) F_2 (the columns and conventions of `predictive.score`)."""
    exact = lo == hi
    terms = [math.log(w) + mix["log_p"][0] if w > 0 else -math.inf,
             math.log(1.0 - w) + mix["log_p"][1] if w < 1 else -math.inf]
    top = max(terms)
    log_p = top if top == -math.inf else top + math.log(sum(math.exp(t - top) for t in terms))
    out: dict[str, float] = {"pred_mean": _mix(w, mix["mean"]),
                             "log_score": -max(log_p, math.log(LOG_FLOOR))}
    if exact:
        grid = _mix(w, mix["grid"])
        for col, c in zip(COVER_COLUMNS, LEVELS):
            # smallest k with F(k) >= q (as `quantiles`); the grid reaches F >= GRID_QUANTILE
            lower, upper = (int(np.searchsorted(grid >= q - 1e-12, True))
                            for q in ((1 - c) / 2, (1 + c) / 2))
            out[col] = float(lower <= lo <= upper)
        out["p_interval"] = math.nan
    else:
        for col in COVER_COLUMNS:
            out[col] = math.nan
        out["p_interval"] = math.exp(log_p)
    out["p_any"] = 1.0 - _mix(w, mix["f0"])
    out["brier_any"] = (out["p_any"] - float(lo >= 1)) ** 2 if (lo >= 1 or hi == 0) else math.nan
    if exact:
        e = mix["crps"]
        distance = 2 * e["e12"] - e["e11"] - e["e22"]
        out["crps"] = w * crps1 + (1 - w) * crps2 - 0.5 * w * (1 - w) * distance
        f_below, f_at = _mix(w, mix["f_below"]), _mix(w, mix["f_at"])
        out["pit"] = f_below + mix["v"] * (f_at - f_below)
    else:
        out["crps"] = math.nan
        out["pit"] = math.nan
    return out


def origin_weights(frame: pd.DataFrame, pair: tuple[str, str],
                   origin_days: dict[int, pd.Timestamp]) -> dict[int, tuple[float, int, str]]:
    """Per origin bin: (weight of pair[0], number of points, note), from the one-step-ahead
    targets of earlier origins published before the origin's first day (never later ones)."""
    step1 = frame[(frame["step"] == 1) & frame["scored"].astype(bool) & frame["model"].isin(pair)]
    table = (-step1.set_index(["origin_bin", "target", "model"])["log_score"]).unstack("model")
    table = table.reindex(columns=list(pair)).dropna()
    published = (step1.drop_duplicates(["origin_bin", "target"])
                 .set_index(["origin_bin", "target"])["published"].map(pd.Timestamp))
    out = {}
    for origin, day in origin_days.items():
        index = table.index
        keep = (index.get_level_values("origin_bin") < origin) & (published.reindex(index) < day).to_numpy()
        lpd = table[keep]
        n = len(lpd)
        if n < MIN_POINTS:
            out[origin] = (0.5, n, f"equal weights: {n} one-step-ahead target(s) of earlier origins "
                           f"published before this origin (stacking needs {MIN_POINTS})")
            continue
        weights = pointwise_weights(lpd, "stacking").set_index("model")["weight"]
        out[origin] = (float(weights[pair[0]]), n, f"stacking weight of {pair[0]} from {n} "
                       "one-step-ahead targets of earlier origins published before this origin")
    return out


def add_ensemble(frame: pd.DataFrame, pair: tuple[str, str],
                 weights: dict[int, tuple[float, int, str]]) -> pd.DataFrame:
    """Fill the ensemble rows' scores (their `_mix` column holds the ingredients) and weights."""
    crps = frame[frame["model"].isin(pair)].set_index(["origin_bin", "target", "model"])["crps"]
    frame = frame.copy()
    frame["weight"] = math.nan
    for i in np.flatnonzero((frame["model"] == NAME).to_numpy()):
        rec = frame.iloc[i]
        origin = int(rec["origin_bin"])
        w, _, note = weights[origin]
        updates: dict[str, Any] = {"weight": w, "note": "; ".join(filter(None, [note, rec["note"]]))}
        if rec["scored"]:
            c1, c2 = (float(crps[(origin, rec["target"], m)]) for m in pair)
            updates.update(mixture_scores(rec["_mix"], w, float(rec["lo"]), float(rec["hi"]), c1, c2))
        for col, value in updates.items():
            frame.iat[i, frame.columns.get_loc(col)] = value
    return frame.drop(columns="_mix")
