"""Model comparison (PSIS-LOO) and stacking of several models' scenario forecasts.

Comparison needs the same observations in every model's pointwise log-likelihood (variable
`obs`, dimension `observation`); runs fitted on other data are refused. Stacking weights
are ArviZ's (`az.compare(method="stacking")`): the weights that maximise the LOO predictive
density of the mixture. The mixed forecast takes, for each posterior draw index, the draw
of one model; which model is fixed per draw index for the whole run, so scenarios stay
paired draw by draw (common random numbers) and contrasts remain meaningful.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from forecast.config import ENSEMBLE_METHODS
from forecast.errors import InputError
from forecast.families import FAMILIES
from forecast.scenarios.toolkit import ScenarioSimulator
from forecast.simulation import REGION_VARIABLES

PARETO_K_LIMIT = 0.7
AZ_METHODS = {"stacking": "stacking", "pseudo-bma": "BB-pseudo-BMA"}
LOO_LABEL = "LOO (describes the history, rewards interpolation)"
BOOTSTRAP_SAMPLES = 1000


def lfo_label(steps: int, n_origins: int) -> str:
    return f"LFO ({steps}-step-ahead, {n_origins} origins, exact refits)"


def _elpd_data(values: np.ndarray) -> az.ELPDData:
    """Pointwise log densities in the form az.compare takes (its 'loo' slots hold them)."""
    n = values.size
    return az.ELPDData(
        data=[float(values.sum()), float(np.sqrt(n * values.var())), 0.0, 0, n, False,
              xr.DataArray(values, dims=["point"]).rename("loo_i"), "log"],
        index=["elpd_loo", "se", "p_loo", "n_samples", "n_data_points", "warning", "loo_i", "scale"])


def pointwise_weights(lpd: pd.DataFrame, method: str = "stacking", seed: int = 0) -> pd.DataFrame:
    """Weights from a (points x models) table of log predictive densities log p_k(y_i).

    One row per model: elpd (the sum over points), its se, elpd_diff and dse against the
    best model, the weight and the number of points. ArviZ 0.23 has no function that takes a
    pointwise matrix, but az.compare takes precomputed ELPDData, so each column is passed as
    one; its stacking optimiser and seeded Bayesian bootstrap are used as they are. Each row is
    first shifted by its maximum (weights are unchanged by a per-point constant), so that a
    point every model gave probability ~0 does not underflow exp() in the stacking objective.
    """
    if method not in ENSEMBLE_METHODS:
        raise InputError("command line", f"unknown ensemble method {method!r}; use one of "
                         f"{', '.join(ENSEMBLE_METHODS)}")
    if lpd.shape[1] < 2:
        raise InputError("command line", "weighing models needs at least two of them")
    values = lpd.to_numpy(dtype=float)
    if values.shape[0] == 0 or not np.isfinite(values).all():
        raise InputError("command line", f"the pointwise log densities are empty or not finite "
                         f"({values.shape[0]} points); no weights can be computed")
    shifted = values - values.max(axis=1, keepdims=True)
    elpds = {str(m): _elpd_data(shifted[:, j]) for j, m in enumerate(lpd.columns)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compared = az.compare(elpds, ic="loo", method=AZ_METHODS[method], seed=seed,
                              b_samples=BOOTSTRAP_SAMPLES)
    raw = np.clip(compared["weight"].reindex(list(elpds)).to_numpy(dtype=float), 0.0, None)
    weights = raw / raw.sum()
    elpd = values.sum(axis=0)
    best = int(np.argmax(elpd))
    diff = values[:, best][:, None] - values
    n = values.shape[0]
    table = pd.DataFrame({"model": [str(m) for m in lpd.columns], "elpd": elpd,
                          "se": np.sqrt(n * values.var(axis=0)), "elpd_diff": diff.sum(axis=0),
                          "dse": np.sqrt(n * diff.var(axis=0)), "weight": weights, "n_points": n})
    table = table.sort_values("elpd", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(1, "rank", np.arange(len(table)))
    return table


def check_same_observations(idatas: dict[str, az.InferenceData]) -> list[str]:
    """The observation ids every model's log-likelihood covers (identical, or an error)."""
    ids: dict[str, list[str]] = {}
    for name, idata in idatas.items():
        if "log_likelihood" not in idata.groups() or "obs" not in idata.log_likelihood:
            raise InputError(name, "has no pointwise log-likelihood ('obs'); refit it with this version")
        ids[name] = [str(v) for v in idata.log_likelihood["observation"].values]
    first_name, first = next(iter(ids.items()))
    for name, other in ids.items():
        if other != first:
            raise InputError(name, f"its log-likelihood covers other observations than {first_name}'s "
                             f"({len(other)} vs {len(first)}); LOO compares models on the same data only")
    return first


def compare_models(idatas: dict[str, az.InferenceData], refits: dict[str, az.SamplingWrapper] | None = None,
                   max_refits: int = 30, method: str = "stacking",
                   seed: int = 0) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """LOO table with stacking (or pseudo-BMA+) weights, and per model the observations with
    Pareto k > 0.7.

    With `refits[model]` (an az.SamplingWrapper), those observations are scored by exact
    leave-one-out refits instead (az.reloo, one fit each, at most `max_refits` per model),
    and no longer count as unreliable.
    """
    refits = refits or {}
    if len(idatas) < 2:
        raise InputError("command line", "comparison needs at least two fitted models")
    ids = check_same_observations(idatas)
    high_k: dict[str, list[str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the Pareto k are reported below, per observation
        loos = {name: az.loo(idata, var_name="obs", pointwise=True) for name, idata in idatas.items()}
        for name in refits:                      # refuse before any refit starts
            n_high = int((np.asarray(loos[name].pareto_k) > PARETO_K_LIMIT).sum())
            if n_high > max_refits:
                raise InputError("command line", f"{name}: {n_high} observations have Pareto k > "
                                 f"{PARETO_K_LIMIT}; more than {max_refits} refits: use the backtest instead")
        for name, loo in loos.items():
            if name in refits and (np.asarray(loo.pareto_k) > PARETO_K_LIMIT).any():
                loos[name] = az.reloo(refits[name], loo_orig=loo, k_thresh=PARETO_K_LIMIT, verbose=False)
            k = np.asarray(loos[name].pareto_k).ravel()
            high_k[name] = [ids[i] for i in np.flatnonzero(k > PARETO_K_LIMIT)]
        table = az.compare(loos, ic="loo", method=AZ_METHODS[method], seed=seed,
                           b_samples=BOOTSTRAP_SAMPLES)
    table = table.rename_axis("model").reset_index()
    table["pareto_k_above_0.7"] = [len(high_k[m]) for m in table["model"]]
    return table[["model", "rank", "elpd_loo", "se", "elpd_diff", "dse", "p_loo", "weight",
                  "pareto_k_above_0.7"]], high_k


def pareto_warnings(high_k: dict[str, list[str]], n_obs: int) -> list[str]:
    out = []
    for name, bad in high_k.items():
        if bad:
            listed = ", ".join(bad[:8]) + (" ..." if len(bad) > 8 else "")
            family = FAMILIES.get(name.split(" (")[0])      # labels may carry the run folder
            why = f" ({family.loo_note})" if family is not None and family.loo_note else ""
            out.append(f"WARNING: {name}: {len(bad)} of {n_obs} observations have Pareto k > "
                       f"{PARETO_K_LIMIT} ({listed}): they are so influential that PSIS-LOO is "
                       f"unreliable there{why}; its elpd_loo is likely too optimistic, read the "
                       "ranking with care")
    return out


def allocate_draws(weights: dict[str, float], n_draws: int, seed: int) -> np.ndarray:
    """(n_draws,) index of the model each draw index comes from, in proportion to the weights."""
    names = list(weights)
    w = np.array([max(weights[n], 0.0) for n in names], dtype=float)
    w = w / w.sum()
    exact = w * n_draws
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: n_draws - counts.sum()]:
        counts[i] += 1                            # largest remainders get the leftover draws
    owner = np.repeat(np.arange(len(names)), counts)
    return np.random.default_rng(np.random.SeedSequence([seed, 7919])).permutation(owner)


def mix_scenario_draws(draws: dict[str, xr.Dataset], weights: dict[str, float], seed: int,
                       how: str = "stacking") -> xr.Dataset:
    """One scenario dataset whose draw i is model owner[i]'s draw i."""
    names = list(draws)
    sizes = {draws[n].sizes["draw"] for n in names}
    if len(sizes) != 1:
        raise InputError("command line", "the models of an ensemble need the same number of posterior "
                         "draws (same --draws and --chains)")
    first = draws[names[0]]
    owner = allocate_draws({n: weights[n] for n in names}, first.sizes["draw"], seed)
    mixed = first.copy(deep=True)
    for var in ("rate", "count", "presence"):
        stacked = np.stack([draws[n][var].values for n in names])          # (M, S, D, H)
        mixed[var].values = np.take_along_axis(stacked, owner[None, None, :, None], axis=0)[0]
    # per-region draws mix only when every model has them (a regional family's); else dropped
    regional = [v for v in REGION_VARIABLES if v in first]
    if regional and all(v in draws[n] for n in names for v in regional):
        for var in regional:
            stacked = np.stack([draws[n][var].values for n in names])      # (M, S, D, H, R)
            mixed[var].values = np.take_along_axis(stacked, owner[None, None, :, None, None], axis=0)[0]
    elif regional:
        mixed = mixed.drop_vars([*regional, "region"])
        mixed.attrs.pop("total_regions", None)
    mixed["source_model"] = ("draw", np.array(names)[owner])
    rate = mixed["rate"].values
    mixed["capped_share"] = ("scenario", (rate >= ScenarioSimulator.rate_cap).mean(axis=(1, 2)))
    mixed.attrs["model"] = "+".join(names)
    mixed.attrs["ensemble"] = f"{how}: " + ", ".join(f"{n} {weights[n]:.3f}" for n in names)
    return mixed
