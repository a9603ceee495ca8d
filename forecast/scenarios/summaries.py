"""Tidy tables from scenario draws: per-month summaries, contrasts, exceedance, first attack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

QUANTILES = {"q02_5": 0.025, "q10": 0.10, "q25": 0.25, "median": 0.5, "q75": 0.75, "q90": 0.90,
             "q97_5": 0.975}
TOTAL_THRESHOLDS = (0, 5, 10, 25, 50, 100, 200)
DECIMALS = 4


def _quantiles(values: np.ndarray) -> dict[str, float]:
    qs = np.quantile(values, list(QUANTILES.values()), method="linear")
    return {"mean": float(np.mean(values)), **dict(zip(QUANTILES, map(float, qs)))}


def month_labels(draws: xr.Dataset) -> list[str]:
    """The forecast months as text ("2027-01"; weekly bins "2027-01-04"), from datetime or text coords."""
    if "month_label" in draws.coords:
        return [str(v) for v in draws["month_label"].values]
    values = draws["month"].values
    if np.issubdtype(values.dtype, np.datetime64):
        stamps = pd.DatetimeIndex(values)
        weekly = len(stamps) > 1 and (stamps[1] - stamps[0]).days == 7
        return list(stamps.strftime("%Y-%m-%d" if weekly else "%Y-%m"))
    return [str(v) for v in values]


def monthly_summary(draws: xr.Dataset) -> pd.DataFrame:
    rows = []
    for s in draws["scenario"].values:
        counts = draws["count"].sel(scenario=s).values
        rates = draws["rate"].sel(scenario=s).values
        presence = draws["presence"].sel(scenario=s).values
        for j, month in enumerate(month_labels(draws)):
            row = {"scenario": s, "month": month, **_quantiles(counts[:, j]),
                   "rate_mean": float(rates[:, j].mean()), "rate_median": float(np.median(rates[:, j])),
                   "p_any_attack": float((counts[:, j] > 0).mean()),
                   "presence_mean": float(np.nanmean(presence[:, j])) if np.isfinite(presence[:, j]).any()
                   else np.nan}
            rows.append(row)
    return pd.DataFrame(rows).round(DECIMALS)


def totals(draws: xr.Dataset) -> xr.DataArray:
    return draws["count"].sum("month")


def total_summary(draws: xr.Dataset) -> pd.DataFrame:
    tot = totals(draws)
    rows = [{"scenario": s, "months": draws.sizes["month"], **_quantiles(tot.sel(scenario=s).values)}
            for s in draws["scenario"].values]
    return pd.DataFrame(rows).round(DECIMALS)


def contrasts(draws: xr.Dataset) -> pd.DataFrame:
    """Scenario minus its baseline, draw by draw (paired through common random numbers)."""
    tot = totals(draws)
    rows = []
    for s, base in zip(draws["scenario"].values, draws["baseline"].values):
        if not base:
            continue
        a, b = tot.sel(scenario=s).values, tot.sel(scenario=base).values
        diff = a - b
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
        finite = ratio[np.isfinite(ratio)]
        rq = (np.quantile(finite, [0.1, 0.5, 0.9, 0.025, 0.975]) if finite.size else [np.nan] * 5)
        d = _quantiles(diff)
        rows.append({
            "scenario": s, "baseline": base,
            "diff_mean": d["mean"], "diff_median": d["median"], "diff_q10": d["q10"], "diff_q90": d["q90"],
            "diff_q02_5": d["q02_5"], "diff_q97_5": d["q97_5"],
            "ratio_median": rq[1], "ratio_q10": rq[0], "ratio_q90": rq[2], "ratio_q02_5": rq[3],
            "ratio_q97_5": rq[4], "ratio_defined_share": finite.size / len(ratio),
            "p_fewer_than_baseline": float((diff < 0).mean()),
            "p_same_as_baseline": float((diff == 0).mean()),
            "p_more_than_baseline": float((diff > 0).mean()),
        })
    return pd.DataFrame(rows).round(DECIMALS)


def exceedance(draws: xr.Dataset) -> pd.DataFrame:
    tot = totals(draws)
    rows = []
    for s in draws["scenario"].values:
        values = tot.sel(scenario=s).values
        for k in TOTAL_THRESHOLDS:
            rows.append({"scenario": s, "threshold": k, "p_total_above": float((values > k).mean())})
    return pd.DataFrame(rows).round(DECIMALS)


def first_attack(draws: xr.Dataset) -> pd.DataFrame:
    """Distribution of months until the first attack (1 = the first forecast month).

    One row per scenario and month m (censored false: the first attack falls in month m),
    and a last row with m = the horizon's length and censored true: no attack within the
    horizon, so the first comes after it (right-censored, as survival tables write it).
    """
    rows = []
    months = draws.sizes["month"]
    for s in draws["scenario"].values:
        hit = draws["count"].sel(scenario=s).values > 0
        first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)
        for m in range(1, months + 1):
            rows.append({"scenario": s, "months_until_first_attack": m, "censored": False,
                         "probability": float((first == m).mean())})
        rows.append({"scenario": s, "months_until_first_attack": months, "censored": True,
                     "probability": float((first == 0).mean())})
    return pd.DataFrame(rows).round(DECIMALS)


def write_tables(draws: xr.Dataset, folder) -> dict[str, str]:
    """Write every table as CSV with fixed formatting (same draws, same bytes)."""
    tables = {
        "summary.csv": monthly_summary(draws), "totals.csv": total_summary(draws),
        "contrasts.csv": contrasts(draws), "exceedance.csv": exceedance(draws),
        "first_attack.csv": first_attack(draws),
    }
    for name, frame in tables.items():
        frame.to_csv(folder / name, index=False, float_format="%.4f", lineterminator="\n")
    return {name: str(len(frame)) for name, frame in tables.items()}
