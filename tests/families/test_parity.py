"""Each family's graph and its numpy simulator compute the same log mean structure.

The log background (intercept, presence, covariates, event effects) is written twice: in
the PyMC graph (sampled) and in numpy (the scenario simulator). On the same draws the two
must agree to 1e-10 over every fitted bin, for every registered family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from forecast.data.loaders import load_counts
from forecast.families import FAMILIES, make_family


def parity_dataset(write):
    """36 months of counts with a moving presence, one covariate and events of every kind,
    several of them in the middle of a month."""
    rng = np.random.default_rng(3)
    months = pd.period_range("2021-01", periods=36, freq="M").astype(str)
    presence = np.linspace(6.0, 2.5, 36)
    oil = rng.normal(80, 10, 36)
    rows = ["date,count,presence,oil"] + [f"{m},{c},{p:.3f},{o:.2f}" for m, c, p, o in
                                          zip(months, rng.poisson(5, 36), presence, oil)]
    events = ("date,kind,name,end_date\n"
              "2021-06-17,decapitation,first,\n"
              "2022-03-03,decapitation,second,\n"
              "2021-09-10,us_strike,us_strike,\n"
              "2022-01-20,militia_truce,militia_truce,2022-02-11\n"
              "2023-04-12,regional_war,regional_war,2023-05-28\n")
    return load_counts(write("c.csv", "\n".join(rows) + "\n"), events=write("e.csv", events))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_graph_and_simulator_agree_on_the_log_mean_structure(write, name):
    family = make_family(name, parity_dataset(write))
    model = family.build()
    with model:
        pm.Deterministic("parity_log_background", family.log_background)
        prior = pm.sample_prior_predictive(draws=40, random_seed=11)
    posterior = prior.prior        # prior draws serve as "posterior" draws: any draws will do
    with model:
        graph = pm.sample_posterior_predictive(_as_posterior(prior), var_names=["parity_log_background"],
                                               random_seed=1, progressbar=False)
    from_graph = graph.posterior_predictive["parity_log_background"].stack(s=("chain", "draw"))
    from_graph = from_graph.transpose("s", ...).values
    from_numpy = family.history_log_background(posterior)
    assert from_numpy.shape == from_graph.shape
    assert np.all(np.isfinite(from_numpy))
    np.testing.assert_allclose(from_numpy, from_graph, rtol=0, atol=1e-10)
    # the check is not vacuous: the structure moves with presence and with the events
    assert np.ptp(from_numpy, axis=1).min() > 0.01


def _as_posterior(prior):
    import arviz as az

    return az.InferenceData(posterior=prior.prior)


def test_parity_catches_a_simulator_that_drops_a_term(write, monkeypatch):
    """The comparison above can fail: drop the presence term from the numpy side."""
    from forecast.scenarios.toolkit import ScenarioSimulator

    family = make_family("latent_ar", parity_dataset(write))
    model = family.build()
    with model:
        pm.Deterministic("parity_log_background", family.log_background)
        prior = pm.sample_prior_predictive(draws=20, random_seed=5)
        graph = pm.sample_posterior_predictive(_as_posterior(prior), var_names=["parity_log_background"],
                                               random_seed=1, progressbar=False)
    original = ScenarioSimulator.log_mean
    monkeypatch.setattr(ScenarioSimulator, "log_mean",
                        lambda self, presence, covariates, h: original(self, None, covariates, h))
    from_graph = graph.posterior_predictive["parity_log_background"].stack(s=("chain", "draw"))
    broken = family.history_log_background(prior.prior)
    assert np.abs(broken - from_graph.transpose("s", ...).values).max() > 1e-3
