"""Tidy tables from scenario draws: per-month summaries, contrasts, exceedance, first attack.

Every statistic is a quantile or a probability, each with its Monte Carlo standard error
(column `<name>_mcse`, ArviZ's estimator on the draws' chains, batched in `mcse.py`): no means.
A scenario's horizon total has a heavy upper tail (a latent random walk compounds over two
years), so a mean would be decided by a handful of draws and by the overflow cap on the rate; quantiles and
probabilities are not (tests/test_summaries_stability.py checks this across caps and seeds).

Draws of a regional family carry `count_by_region`: every table then has a `region` column,
rows for 'total' (the regions the reference definition counts, the same figure as without
regions) and then for each region.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from forecast.scenarios import mcse

QUANTILES = {"q02_5": 0.025, "q10": 0.10, "q25": 0.25, "median": 0.5, "q75": 0.75, "q90": 0.90,
             "q97_5": 0.975}
TOTAL_THRESHOLDS = (0, 5, 10, 25, 50, 100, 200)
DECIMALS = 4


def chains_of(draws: xr.Dataset) -> int:
    """Number of posterior chains behind the scenario draws (their order is chain-major)."""
    chains = int(draws.attrs.get("chains", 1))
    return chains if chains > 0 and draws.sizes["draw"] % chains == 0 else 1


def _by_chain(values: np.ndarray, chains: int) -> np.ndarray:
    """(cells, draws) -> (cells, chains, draws per chain); the draws are chain-major."""
    values = np.asarray(values, dtype=float)
    return values.reshape(values.shape[0], chains, -1)


def quantile_columns(values: np.ndarray, chains: int, names: dict[str, float] = QUANTILES,
                     prefix: str = "") -> dict[str, np.ndarray]:
    """Quantiles of each row of (cells, draws) and their Monte Carlo standard errors."""
    values = np.asarray(values, dtype=float)
    if values.shape[-1] == 0:
        return {f"{prefix}{k}{suffix}": np.full(values.shape[0], np.nan)
                for k in names for suffix in ("", "_mcse")}
    qs = np.quantile(values, list(names.values()), axis=1, method="linear")
    errors = mcse.mcse_quantiles(_by_chain(values, chains), list(names.values()))
    out: dict[str, np.ndarray] = {}
    for name, q, error in zip(names, qs, errors):
        out[f"{prefix}{name}"] = q
        out[f"{prefix}{name}_mcse"] = error
    return out


def probability_columns(hit: np.ndarray, chains: int, name: str) -> dict[str, np.ndarray]:
    """P(event) of each row of (cells, draws) indicators, and its Monte Carlo standard error."""
    hit = np.asarray(hit, dtype=float)
    return {name: hit.mean(axis=1), f"{name}_mcse": mcse.mcse_mean(_by_chain(hit, chains))}


def _one(columns: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(v[0]) for k, v in columns.items()}


def quantile_stats(values: np.ndarray, chains: int, names: dict[str, float] = QUANTILES,
                   prefix: str = "") -> dict[str, float]:
    """Quantiles of draws and their Monte Carlo standard errors."""
    return _one(quantile_columns(np.asarray(values, dtype=float)[None, :], chains, names, prefix))


def probability_stats(hit: np.ndarray, chains: int, name: str) -> dict[str, float]:
    """P(event) from indicator draws, and its Monte Carlo standard error."""
    return _one(probability_columns(np.asarray(hit)[None, :], chains, name))


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


TOTAL = "total"


def series(draws: xr.Dataset, regions: bool) -> list[tuple[str | None, xr.Dataset]]:
    """(region label, draws of `count`, `rate`, `presence` (scenario, draw, month)): with
    `regions` and draws of a regional family, 'total' (the reference regions) then each
    region; else (None, the draws themselves)."""
    if not regions or "count_by_region" not in draws:
        return [(None, draws)]
    out: list[tuple[str | None, xr.Dataset]] = [(TOTAL, draws)]
    by_region = [f"{name}_by_region" for name in ("count", "rate", "presence")]
    for r in draws["region"].values:
        # the draws with the region's series in place of the total's (labels, baselines kept)
        one = draws.drop_vars(by_region).drop_dims("region").assign(
            {name: draws[f"{name}_by_region"].sel(region=r, drop=True)
             for name in ("count", "rate", "presence")})
        out.append((str(r), one))
    return out


def monthly_summary(draws: xr.Dataset, regions: bool = False) -> pd.DataFrame:
    """Per scenario and month (and per region, with `regions`, when the draws have them)."""
    chains = chains_of(draws)
    frames = []
    labels = month_labels(draws)
    for s in draws["scenario"].values:
        for label, one in series(draws, regions):
            # (months, draws): every month's statistics at once
            counts = one["count"].sel(scenario=s).values.T
            rates = one["rate"].sel(scenario=s).values.T
            presence = one["presence"].sel(scenario=s).values.T
            known = np.isfinite(presence).any(axis=1)
            with np.errstate(all="ignore"):
                median_presence = np.where(known, np.nanmedian(np.where(known[:, None], presence, 0.0),
                                                               axis=1), np.nan)
            frame = pd.DataFrame({
                "scenario": s, **_labelled(label), "month": labels,
                **quantile_columns(counts, chains),
                **quantile_columns(rates, chains, {"median": 0.5}, prefix="rate_"),
                **probability_columns(counts > 0, chains, "p_any_attack"),
                "presence_median": median_presence})
            frames.append(frame)
    return pd.concat(frames, ignore_index=True).round(DECIMALS)


def totals(draws: xr.Dataset) -> xr.DataArray:
    return draws["count"].sum("month")


def region_totals(draws: xr.Dataset, regions: bool) -> list[tuple[str | None, xr.DataArray]]:
    """(region label, horizon totals (scenario, draw)): with `regions` and draws of a regional
    family, 'total' (the reference regions, as `count`) then each region; else (None, total)."""
    return [(label, totals(one)) for label, one in series(draws, regions)]


def _labelled(label: str | None) -> dict[str, str]:
    return {} if label is None else {"region": label}


def total_summary(draws: xr.Dataset, regions: bool = False) -> pd.DataFrame:
    """Horizon totals per scenario (and per region, with `regions`, when the draws have them)."""
    chains = chains_of(draws)
    sets = region_totals(draws, regions)
    rows = [{"scenario": s, **_labelled(label), "months": draws.sizes["month"],
             **quantile_stats(tot.sel(scenario=s).values, chains)}
            for s in draws["scenario"].values for label, tot in sets]
    return pd.DataFrame(rows).round(DECIMALS)


CONTRAST_QUANTILES = {"median": 0.5, "q10": 0.10, "q90": 0.90, "q02_5": 0.025, "q97_5": 0.975}


def contrasts(draws: xr.Dataset, regions: bool = False) -> pd.DataFrame:
    """Scenario minus its baseline, draw by draw (paired through common random numbers); with
    `regions`, also per region when the draws have them."""
    sets = region_totals(draws, regions)
    chains = chains_of(draws)
    rows = []
    for (s, base), (label, tot) in ((pair, one) for pair in zip(draws["scenario"].values,
                                                              draws["baseline"].values) for one in sets):
        if not base:
            continue
        a, b = tot.sel(scenario=s).values, tot.sel(scenario=base).values
        diff = a - b
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
        defined = np.isfinite(ratio)
        # the ratio is defined where the baseline has attacks; its draws lose their chain order
        ratio_chains = chains if defined.all() else 1
        rows.append({
            "scenario": s, "baseline": base, **_labelled(label),
            **quantile_stats(diff, chains, CONTRAST_QUANTILES, prefix="diff_"),
            **quantile_stats(ratio[defined], ratio_chains, CONTRAST_QUANTILES, prefix="ratio_"),
            "ratio_defined_share": float(defined.mean()),
            **probability_stats(diff < 0, chains, "p_fewer_than_baseline"),
            **probability_stats(diff == 0, chains, "p_same_as_baseline"),
            **probability_stats(diff > 0, chains, "p_more_than_baseline"),
        })
    return pd.DataFrame(rows).round(DECIMALS)


def exceedance(draws: xr.Dataset, regions: bool = False) -> pd.DataFrame:
    """P(horizon total > k) per scenario (and per region, with `regions`)."""
    chains = chains_of(draws)
    rows = []
    for s in draws["scenario"].values:
        for label, tot in region_totals(draws, regions):
            values = tot.sel(scenario=s).values
            for k in TOTAL_THRESHOLDS:
                rows.append({"scenario": s, **_labelled(label), "threshold": k,
                             **probability_stats(values > k, chains, "p_total_above")})
    return pd.DataFrame(rows).round(DECIMALS)


def first_attack(draws: xr.Dataset, regions: bool = False) -> pd.DataFrame:
    """Distribution of months until the first attack (1 = the first forecast month).

    One row per scenario and month m (censored false: the first attack falls in month m),
    and a last row with m = the horizon's length and censored true: no attack within the
    horizon, so the first comes after it (right-censored, as survival tables write it).
    """
    rows = []
    months = draws.sizes["month"]
    for s in draws["scenario"].values:
        for label, one in series(draws, regions):
            hit = one["count"].sel(scenario=s).values > 0
            first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)
            for m in range(1, months + 1):
                rows.append({"scenario": s, **_labelled(label), "months_until_first_attack": m,
                             "censored": False, "probability": float((first == m).mean())})
            rows.append({"scenario": s, **_labelled(label), "months_until_first_attack": months,
                         "censored": True, "probability": float((first == 0).mean())})
    return pd.DataFrame(rows).round(DECIMALS)


def write_tables(draws: xr.Dataset, folder) -> dict[str, str]:
    """Write every table as CSV with fixed formatting (same draws, same bytes)."""
    tables = {
        "summary.csv": monthly_summary(draws, regions=True), "totals.csv": total_summary(draws, regions=True),
        "contrasts.csv": contrasts(draws, regions=True), "exceedance.csv": exceedance(draws, regions=True),
        "first_attack.csv": first_attack(draws, regions=True),
    }
    for name, frame in tables.items():
        frame.to_csv(folder / name, index=False, float_format="%.4f", lineterminator="\n")
    return {name: str(len(frame)) for name, frame in tables.items()}
