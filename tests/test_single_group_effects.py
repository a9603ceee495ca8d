"""A kind's single event group is sampled as effect | sd, then mean | effect, sd: the same
joint prior of (mean, sd, effect) as the non-centred mean + sd * z it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from forecast.core.effects import kind_designs
from forecast.core.effects_graph import pooled_effect
from forecast.core.priors import Priors, PriorSpec
from forecast.timeaxis import month_axis

DRAWS = 20_000
FAMILY = "decapitation_pulse"


def _one_killing():
    axis = month_axis("2020-01", "2020-12")
    events = pd.DataFrame({"date": [pd.Timestamp("2020-03-10")], "end_date": [pd.NaT],
                           "kind": ["decapitation"], "name": ["only"]})
    (design,) = kind_designs(events, axis)
    return design


def _priors(mean: PriorSpec) -> Priors:
    return Priors({FAMILY: mean, f"{FAMILY}_sd": PriorSpec("HalfNormal", {"sigma": 0.7})}, {}, ())


def _draws(model: pm.Model, seed: int) -> dict[str, np.ndarray]:
    with model:
        prior = pm.sample_prior_predictive(draws=DRAWS, random_seed=seed,
                                           var_names=[f"{FAMILY}_mean", f"{FAMILY}_sd", FAMILY]).prior
    return {"mean": prior[f"{FAMILY}_mean"].values.ravel(), "sd": prior[f"{FAMILY}_sd"].values.ravel(),
            "effect": prior[FAMILY].values.ravel()}


def _engine(design, priors: Priors) -> pm.Model:
    with pm.Model(coords={"decapitation_group": design.groups}) as model:
        pooled_effect("decapitation", "pulse", design, priors)
    return model


def _non_centred(mu: float, sigma: float) -> pm.Model:
    """The parametrisation every kind with several groups uses, written out."""
    with pm.Model(coords={"decapitation_group": ["only"]}) as model:
        mean = pm.Normal(f"{FAMILY}_mean", mu, sigma)
        sd = pm.HalfNormal(f"{FAMILY}_sd", 0.7)
        z = pm.Normal("z", 0.0, 1.0, dims="decapitation_group")
        pm.Deterministic(FAMILY, mean + sd * z, dims="decapitation_group")
    return model


def test_single_group_prior_matches_the_non_centred_parametrisation():
    design = _one_killing()
    engine = _engine(design, _priors(PriorSpec("Normal", {"mu": 0.3, "sigma": 1.2})))
    assert {f"{FAMILY}_marginal_z", f"{FAMILY}_mean_z"} <= {rv.name for rv in engine.free_RVs}
    new, old = _draws(engine, seed=1), _draws(_non_centred(0.3, 1.2), seed=2)
    # the marginals and the joint (through the effect's deviation from the mean, and its
    # standardised form z) agree: two-sample KS tests, fixed seeds
    for name in ("mean", "sd", "effect"):
        assert stats.ks_2samp(new[name], old[name]).pvalue > 0.001, name
    deviation = {k: d["effect"] - d["mean"] for k, d in (("new", new), ("old", old))}
    assert stats.ks_2samp(deviation["new"], deviation["old"]).pvalue > 0.001
    z = {k: (d["effect"] - d["mean"]) / d["sd"] for k, d in (("new", new), ("old", old))}
    assert stats.ks_2samp(z["new"], z["old"]).pvalue > 0.001
    # and the quantiles of the effect within Monte Carlo error (sd of a quantile estimate)
    qs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    q_new, q_old = np.quantile(new["effect"], qs), np.quantile(old["effect"], qs)
    density = stats.gaussian_kde(old["effect"])(q_old)
    mc_sd = np.sqrt(2 * qs * (1 - qs) / DRAWS) / density
    assert np.all(np.abs(q_new - q_old) < 4 * mc_sd)
    # the effect's deviation from the kind's mean is independent of the mean, as in the original
    assert abs(np.corrcoef(new["mean"], z["new"])[0, 1]) < 0.03


def test_several_groups_or_a_non_normal_mean_prior_keep_the_non_centred_form():
    design = _one_killing()
    student = _engine(design, _priors(PriorSpec("StudentT", {"nu": 3.0, "mu": 0.0, "sigma": 1.0})))
    assert [rv.name for rv in student.free_RVs] == [f"{FAMILY}_mean", f"{FAMILY}_sd", f"{FAMILY}_z"]
    axis = month_axis("2020-01", "2020-12")
    events = pd.DataFrame({"date": [pd.Timestamp("2020-03-10"), pd.Timestamp("2020-08-01")],
                           "end_date": [pd.NaT, pd.NaT], "kind": ["decapitation"] * 2, "name": ["a", "b"]})
    (two,) = kind_designs(events, axis)
    normal = _engine(two, _priors(PriorSpec("Normal", {"mu": 0.0, "sigma": 1.0})))
    assert [rv.name for rv in normal.free_RVs] == [f"{FAMILY}_mean", f"{FAMILY}_sd", f"{FAMILY}_z"]
