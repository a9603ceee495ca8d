"""The self-exciting (Hawkes) negative binomial family: data rules, kernels, simulation, recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.data.loaders import load_counts
from forecast.errors import InputError
from forecast.families.hawkes.graph import (
    HawkesModel,
    kernel_weights_numpy,
    lag_matrix,
    simulate_series,
)
from forecast.families.hawkes.simulate import HawkesSimulator
from forecast.scenarios.spec import parse_scenario
from forecast.simulation import check_scenarios
from tests.conftest import counts_csv


def hawkes_posterior(model: HawkesModel, n_draws: int = 400, *, intercept: float = 1.0,
                     branching: float = 0.5, kernel: float = 0.5, overdispersion: float = 0.3,
                     elasticity: float = 0.0) -> xr.Dataset:
    def scalar(value: float) -> xr.DataArray:
        return xr.DataArray(np.full((1, n_draws), value), dims=("chain", "draw"))

    data = {"intercept": scalar(intercept), "branching": scalar(branching),
            "kernel_decay": scalar(kernel), "kernel_exponent": scalar(kernel),
            "overdispersion": scalar(overdispersion)}
    if model.dataset.presence is not None:
        data["elasticity"] = scalar(elasticity)
    return xr.Dataset(data)


def scenario_text(months: int, body: str = "") -> str:
    return f'name = "s"\n[horizon]\nmonths = {months}\n' + body


@pytest.fixture
def counts(write):
    return load_counts(write("c.csv", counts_csv(36)))


def test_lag_matrix_and_kernels():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(lag_matrix(y, 2), [[0, 0], [1, 0], [2, 1], [3, 2]])
    for kernel, param in (("geometric", 0.6), ("power_law", 1.2)):
        w = kernel_weights_numpy(kernel, np.array([param, param]), 12)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        assert (np.diff(w[0]) < 0).all()                      # later lags trigger less
    geo = kernel_weights_numpy("geometric", np.array([0.5]), 3)[0]
    np.testing.assert_allclose(geo, np.array([1, 0.5, 0.25]) / 1.75)


def test_model_needs_a_fully_observed_series(write):
    text = counts_csv(24).splitlines()
    gap = "\n".join([text[0], *text[1:10], text[10].split(",")[0] + ",," + text[10].split(",")[2],
                     *text[11:]]) + "\n"
    with pytest.raises(InputError, match="needs a count for every month.*missing: 2022-10"):
        HawkesModel(load_counts(write("gap.csv", gap)))
    two = "date,count,series\n2022-01,1,a\n2022-02,2,a\n2022-01,3,b\n2022-02,1,b\n"
    with pytest.raises(InputError, match="one counting definition"):
        HawkesModel(load_counts(write("two.csv", two)))
    from dataclasses import replace

    from forecast.data.loaders import load_dataset

    with pytest.raises(InputError, match="one counting definition"):
        HawkesModel(load_dataset(None))
    full = load_counts(write("full.csv", counts_csv(24)))
    obs = full.observations.copy()
    obs.loc[3, "hi"] = np.inf                       # an "at least" row
    with pytest.raises(InputError, match="exact counts; row .* is a bound"):
        HawkesModel(replace(full, observations=obs))


def test_leading_unknown_bins_are_dropped(write):
    text = counts_csv(24).splitlines()
    lead = "\n".join([text[0], text[1].split(",")[0] + ",," + text[1].split(",")[2], *text[2:]]) + "\n"
    model = HawkesModel(load_counts(write("lead.csv", lead)))
    assert model.first == 1 and model.counts.size == 23
    model.build()
    assert model.model.coords["bin"][0] == "2022-02"


def test_stationary_simulation_keeps_the_long_run_mean(counts):
    model = HawkesModel(counts)
    mean, eta = np.exp(1.0), 0.6
    # start from the long-run mean so the burn-in is short
    model.counts = np.full(model.counts.shape, round(mean))
    post = hawkes_posterior(model, 4000, intercept=1.0, branching=eta, kernel=0.5, elasticity=0.0)
    out = HawkesSimulator(model, post).simulate(parse_scenario(scenario_text(120), "t"), seed=3)
    late = out["count"][:, 24:].astype(float)
    per_draw = late.mean(axis=1)                   # draws are independent paths
    se = per_draw.std(ddof=1) / np.sqrt(per_draw.size)
    assert abs(per_draw.mean() - mean) < 4 * se, (per_draw.mean(), mean, se)
    # the conditional rates average to the same long-run mean
    assert abs(out["rate"][:, 24:].mean() - mean) < 4 * se


def test_simulated_counts_feed_back_into_the_excitation(counts):
    model = HawkesModel(counts)
    post = hawkes_posterior(model, 2000, branching=0.8, kernel=0.2)
    out = HawkesSimulator(model, post).simulate(parse_scenario(scenario_text(6), "t"), seed=1)
    rate, count = out["rate"], out["count"].astype(float)
    # draws with more attacks in month 1 have a higher rate in month 2 (and the relation is
    # exactly linear with slope eta * g(1))
    slope = np.polyfit(count[:, 0], rate[:, 1], 1)[0]
    g1 = kernel_weights_numpy("geometric", np.array([0.2]), model.lags)[0, 0]
    assert slope == pytest.approx(0.8 * g1, rel=1e-6)


def test_branching_shock_acts_from_its_date_and_rate_multiplier_on_the_background(counts):
    model = HawkesModel(counts)
    post = hawkes_posterior(model, 500, branching=0.5)
    sim = HawkesSimulator(model, post)
    base = sim.simulate(parse_scenario(scenario_text(6), "t"), seed=2)
    calm = sim.simulate(parse_scenario(scenario_text(6, '[[shocks]]\nparameter = "branching_multiplier"\n'
                                                      'date = "2025-03-01"\nfactor = 0.0\n'), "t"), seed=2)
    background = np.exp(1.0 + np.log1p(-0.5))
    np.testing.assert_allclose(calm["rate"][:, 2:], background)      # no excitation from March
    np.testing.assert_allclose(calm["rate"][:, :2], base["rate"][:, :2])
    half = sim.simulate(parse_scenario(scenario_text(1, '[[shocks]]\nparameter = "rate_multiplier"\n'
                                                      'date = "2025-01-01"\nfactor = 0.5\n'), "t"), seed=2)
    excitation = base["rate"][:, 0] - background
    np.testing.assert_allclose(half["rate"][:, 0], background * 0.5 + excitation)


def test_presence_zero_stops_attacks_including_triggered_ones(counts):
    model = HawkesModel(counts)
    post = hawkes_posterior(model, 300, branching=0.9, elasticity=1.0)
    body = ('[presence]\npoints = [{ date = "2025-01-01", value = 3.0 }, { date = "2025-03-31", '
            'value = 3.0 }, { date = "2025-04-01", value = 0.0 }]\n')
    out = HawkesSimulator(model, post).simulate(parse_scenario(scenario_text(8, body), "t"), seed=4)
    assert (out["rate"][:, 3:] == 0).all() and (out["count"][:, 3:] == 0).all()
    assert (out["rate"][:, :3] > 0).all()


def test_shocks_on_parameters_a_model_lacks_name_the_models_that_have_them(counts):
    branching = parse_scenario(scenario_text(3, '[[shocks]]\nparameter = "branching_multiplier"\n'
                                                'date = "2025-02-01"\nfactor = 2.0\n'), "b.toml")
    volatility = parse_scenario(scenario_text(3, '[[shocks]]\nparameter = "volatility_multiplier"\n'
                                                 'date = "2025-02-01"\nfactor = 2.0\n'), "v.toml")
    from forecast.families.latent_ar.graph import LatentARModel

    latent = LatentARModel(counts)
    with pytest.raises(InputError, match="no shock 'branching_multiplier'; it belongs to model\\(s\\) "
                                         "hawkes, hawkes_powerlaw"):
        check_scenarios(latent, [branching])
    hawkes = HawkesModel(counts)
    with pytest.raises(InputError, match="it belongs to model\\(s\\) latent_ar"):
        check_scenarios(hawkes, [volatility])


def test_a_stated_volatility_effect_is_refused_by_the_hawkes_model(write):
    csv = counts_csv(24)
    events = write("e.csv", "date,kind,name\n2022-06-10,decapitation,leader\n")
    model = HawkesModel(load_counts(write("c.csv", csv), events=events))
    body = ('[[events]]\nkind = "decapitation"\ndate = "2025-02-01"\n'
            'effect = { pulse = 0.3, level = 0.1, volatility = 0.2 }\n')
    with pytest.raises(InputError, match="no latent volatility"):
        HawkesSimulator(model, hawkes_posterior(model)).check(parse_scenario(scenario_text(3, body), "d"))


def weekly_series(n: int, seed: int, kernel: str = "geometric", kernel_parameter: float = 0.7,
                  branching: float = 0.6) -> tuple[pd.DataFrame, dict[str, float]]:
    presence = np.where(np.arange(n) < n // 2, 5.0, 2.5)
    truth = {"intercept": np.log(1.5), "elasticity": 0.8, "branching": branching,
             "kernel": kernel_parameter, "overdispersion": 0.3}
    ref = np.exp(np.mean(np.log(presence)))
    background = np.exp(truth["intercept"]) * (1 - branching) * (presence / ref) ** truth["elasticity"]
    y = simulate_series(background, branching, kernel, kernel_parameter, 0.3, 26, seed)
    dates = pd.date_range("2020-01-06", periods=n, freq="7D").strftime("%Y-%m-%d")
    return pd.DataFrame({"date": dates, "count": y.astype(int), "presence": presence}), truth


@pytest.mark.slow
@pytest.mark.parametrize("model_name, kernel, kernel_var, kernel_parameter",
                         [("hawkes", "geometric", "kernel_decay", 0.7),
                          ("hawkes_powerlaw", "power_law", "kernel_exponent", 1.0)])
def test_recovers_branching_kernel_and_background_from_simulated_weekly_data(
        tmp_path, model_name, kernel, kernel_var, kernel_parameter):
    from forecast.config import FitSettings
    from forecast.fitting import fit

    frame, truth = weekly_series(312, seed=11, kernel=kernel, kernel_parameter=kernel_parameter)
    path = tmp_path / "weekly.csv"
    frame.to_csv(path, index=False)
    result = fit(load_counts(path), model_name=model_name, cache_root=None, progress=False,
                 settings=FitSettings(draws=1000, tune=1000, chains=4))
    assert result.manifest["diagnostics"]["passed"], result.manifest["diagnostics"]["failures"]
    post = result.idata.posterior
    for name, true in [("branching", truth["branching"]), (kernel_var, kernel_parameter),
                       ("intercept", truth["intercept"]), ("elasticity", truth["elasticity"])]:
        draws = post[name].values.ravel()
        lo, hi = np.quantile(draws, [0.01, 0.99])
        assert lo < true < hi, (name, true, lo, hi)
    # the data, not the prior, decide the branching ratio: its posterior is much narrower
    # than the prior (sd 0.2). Measured: 0.101 for the power-law kernel, so the bound is set
    # clear of Monte Carlo error rather than at exactly half
    assert post["branching"].values.std() < 0.6 * 0.2


def test_numpy_pointwise_log_likelihood_equals_pymc_negative_binomial(counts):
    """The numpy log-likelihood (checks.csv, LOO of a posterior) is PyMC's NB logp to 1e-10."""
    import pymc as pm

    model = HawkesModel(counts)
    rng = np.random.default_rng(4)
    n_bins = counts.axis.n - model.first
    rate = rng.uniform(0.5, 12.0, (2, 5, n_bins))
    overdispersion = rng.uniform(0.1, 0.8, (2, 5))
    post = xr.Dataset({"rate": (("chain", "draw", "bin"), rate),
                       "overdispersion": (("chain", "draw"), overdispersion)})
    ours = model.pointwise_log_likelihood(post).values
    alpha = 1.0 / overdispersion[..., None] ** 2
    theirs = pm.logp(pm.NegativeBinomial.dist(mu=rate, alpha=alpha), model.counts[None, None]).eval()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
