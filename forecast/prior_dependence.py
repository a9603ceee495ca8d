"""How much of each contrast comes from the prior: a table beside contrasts.csv.

Three statements per contrast (scenario against its baseline):

1. Where the scenario's presence lies against the history's: an elasticity is learned only
   inside the presence range of the data; a withdrawal to near zero extrapolates it.
2. `prior_overlap`: the overlap (0..1) of two distributions of the contrast, on the log ratio
   of expected horizon totals (the level cancels; what remains is the effect of what
   differs between the two scenarios): under the posterior, and with the effect parameters
   (elasticity, event effects and decays, covariate coefficients) drawn from their priors
   instead, the level and the latent path kept at their posterior draws. 1 means the data
   did not move the contrast away from what the prior alone says; an overlap above 0.35 is
   the usual mark of a weakly identified quantity (Garrett and Zeger 2000). A ratio of
   interval widths would mislead: the same uncertainty about a large effect spreads the
   ratio wider than about a small one. (Drawing the level from its prior too would put most
   prior draws at absurd rates, where the rate cap, not the effects, decides the ratio.)
3. The contrast under the alternative elasticity priors of `priors/` (no footprint effect;
   attacks proportional to the footprint), by importance reweighting of the posterior draws
   (only the elasticity's prior changes, so the weights are the ratio of the two priors at
   each draw's elasticity), Pareto-smoothed, with the Pareto k that says whether to trust it
   (k > 0.7: refit with `--priors` instead).
"""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from forecast.core.priors import PriorSpec
from forecast.families import Family
from forecast.scenarios.spec import Scenario

# The files priors/elasticity_none.toml and priors/elasticity_strong.toml state the same
# priors (a test keeps them equal); the package carries them so an installed tool can say it.
ALTERNATIVE_ELASTICITY = {
    "no_footprint_effect": PriorSpec("Normal", {"mu": 0.0, "sigma": 0.5}),
    "proportional": PriorSpec("Normal", {"mu": 1.0, "sigma": 0.3}),
}
PRIOR_DRAWS = 1000
PARETO_K_LIMIT = 0.7


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probs: list[float]) -> np.ndarray:
    """Quantiles of weighted draws (numpy has no weighted quantile for importance weights)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(probs, cum, v)


# What stays at its posterior draws in the prior counterfactual: the level and the latent path.
LEVEL_VARIABLES = ("intercept", "rho", "sigma", "z", "u", "rate", "segment_rate", "branching",
                   "kernel_decay", "kernel_exponent", "overdispersion", "background",
                   # regional_ar: the regions' levels and rates are levels too
                   "region_sd", "region_z", "region_offset", "rate_by_region", "segment_rate_by_region",
                   "region_centre_z", "region_spread_z", "intercept_z")


def _effects_from_prior(family: Family, posterior: xr.Dataset, seed: int) -> xr.Dataset:
    """Posterior draws with every effect parameter replaced by a draw from its prior."""
    model = family.model or family.build()
    stacked = posterior.stack(sample=("chain", "draw"))
    n = min(PRIOR_DRAWS, stacked.sizes["sample"])
    keep = np.random.default_rng(seed).choice(stacked.sizes["sample"], n, replace=False)
    chosen = stacked.isel(sample=np.sort(keep)).drop_vars(["sample", "chain", "draw"])
    chosen = chosen.rename({"sample": "draw"}).expand_dims("chain", 0)
    # free and deterministic variables of the graph (not the sampler's transformed copies)
    effects = [v for v in chosen.data_vars if v in model.named_vars and v not in LEVEL_VARIABLES
               and not v.endswith("__")]
    with model:
        prior = pm.sample_prior_predictive(draws=n, random_seed=seed, var_names=effects).prior
    out = chosen.copy()
    for name in effects:
        out[name] = (chosen[name].dims, prior[name].transpose(*chosen[name].dims).values)
    return out


def _total_rates(sim_result: dict[str, np.ndarray]) -> np.ndarray:
    return sim_result["rate"].sum(axis=1)


OVERLAP_BINS = 60
WEAK_OVERLAP = 0.35


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap of two samples' distributions: sum over common bins of the smaller probability."""
    lo, hi = np.quantile(np.concatenate([a, b]), [0.005, 0.995])
    if not hi > lo:
        return 1.0
    edges = np.linspace(lo, hi, OVERLAP_BINS + 1)
    p = np.histogram(np.clip(a, lo, hi), edges)[0] / len(a)
    q = np.histogram(np.clip(b, lo, hi), edges)[0] / len(b)
    return float(np.minimum(p, q).sum())


def _reweighted(family: Family, posterior: xr.Dataset, diff: np.ndarray) -> dict[str, float]:
    """The paired difference of totals under each alternative elasticity prior."""
    out: dict[str, float] = {}
    if "elasticity" not in posterior:
        return out
    g = posterior["elasticity"].values.ravel()
    base = family.priors.get("elasticity").dist_object()
    log_base = pm.logp(base, g).eval()
    for name, spec in ALTERNATIVE_ELASTICITY.items():
        log_w = pm.logp(spec.dist_object(), g).eval() - log_base
        smoothed, k = az.psislw(log_w - log_w.max())
        w = np.exp(smoothed - smoothed.max())
        q10, median, q90 = weighted_quantiles(diff.astype(float), w, [0.1, 0.5, 0.9])
        out |= {f"{name}_diff_median": median, f"{name}_diff_q10": q10, f"{name}_diff_q90": q90,
                f"{name}_p_fewer": float(w[diff < 0].sum() / w.sum()), f"{name}_pareto_k": float(k)}
    return out


def prior_dependence_table(family: Family, posterior: xr.Dataset, scenarios: list[Scenario],
                           draws: xr.Dataset, seed: int) -> pd.DataFrame:
    """One row per contrast of the run: presence ranges, prior share, alternative-prior contrasts."""
    by_name = {s.name: s for s in scenarios}
    pairs = [(s.name, s.baseline) for s in scenarios if s.baseline and s.baseline in by_name]
    if not pairs:
        return pd.DataFrame()
    dataset = family.dataset
    prior_sim = family.simulator(_effects_from_prior(family, posterior, seed))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        prior_totals = {name: _total_rates(prior_sim.simulate(by_name[name], seed))
                        for name in {n for pair in pairs for n in pair}}
    totals = draws["count"].sum("month")
    rate_totals = draws["rate"].sum("month")
    rows = []
    for name, baseline in pairs:
        row: dict[str, float | str] = {"scenario": name, "baseline": baseline}
        if dataset.presence is not None:
            presence = np.asarray(dataset.presence, dtype=float)
            path = draws["presence"].sel(scenario=name).median("draw").values
            row |= {"data_presence_min": presence.min(), "data_presence_max": presence.max(),
                    "scenario_presence_min": float(np.nanmin(path)),
                    "scenario_presence_max": float(np.nanmax(path))}
            row["presence_outside_data"] = bool(np.nanmin(path) < presence.min()
                                                or np.nanmax(path) > presence.max())
            base_path = draws["presence"].sel(scenario=baseline).median("draw").values
            row["presence_differs"] = bool(np.nanmax(np.abs(path - base_path)) > 1e-9)
        post_ratio = _log_ratio(rate_totals.sel(scenario=name).values,
                                rate_totals.sel(scenario=baseline).values)
        prior_ratio = _log_ratio(prior_totals[name], prior_totals[baseline])
        usable = post_ratio.size >= 100 and prior_ratio.size >= 100
        row["prior_overlap"] = overlap(post_ratio, prior_ratio) if usable else math.nan
        diff = totals.sel(scenario=name).values - totals.sel(scenario=baseline).values
        row |= _reweighted(family, posterior, diff)
        rows.append(row)
    return pd.DataFrame(rows).round(4)


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Log ratio of expected totals where both are finite and positive."""
    keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    return np.log(a[keep] / b[keep])
