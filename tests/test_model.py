"""The latent AR model: graph checks (fast) and statistical checks by fitting (slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.config import FitSettings
from forecast.core.predictive_checks import outside_central, tail_probabilities
from forecast.data.dataset import Dataset
from forecast.data.loaders import load_bundled, load_counts, load_observations
from forecast.families.latent_ar.graph import LatentARModel
from forecast.fitting import fit
from forecast.timeaxis import month_axis


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_RUN"])
@pytest.mark.parametrize("n", [1, 2, 5, 84, 300])
def test_ar1_filter_matches_the_sequential_recursion_and_its_gradient(n, mode):
    """Numba (what nutpie samples) and numpy (PyMC's predictive) implementations of the Op."""
    import pytensor
    import pytensor.tensor as pt

    from forecast.families.latent_ar.ar1_op import ar1_filter_op

    rng = np.random.default_rng(n)
    x, weights = rng.normal(size=n), rng.normal(size=n)
    rho, e = pt.dscalar("rho"), pt.dvector("e")
    u = ar1_filter_op(rho, e)
    objective = (pt.sin(u) * weights).sum()
    f = pytensor.function([rho, e], [u, *pt.grad(objective, [rho, e])], mode=mode)

    def sequential(r: float, innovations: np.ndarray) -> np.ndarray:
        out, prev = np.empty(n), 0.0
        for t in range(n):
            prev = r * prev + innovations[t]
            out[t] = prev
        return out

    def sequential_objective(r: float, innovations: np.ndarray) -> float:
        return float((np.sin(sequential(r, innovations)) * weights).sum())

    value, grad_rho, grad_e = f(0.83, x)
    np.testing.assert_allclose(value, sequential(0.83, x), atol=1e-12)
    numeric_rho = (sequential_objective(0.83 + 1e-6, x) - sequential_objective(0.83 - 1e-6, x)) / 2e-6
    assert grad_rho == pytest.approx(numeric_rho, rel=1e-6, abs=1e-8)
    step = np.eye(n)[n // 2] * 1e-6
    numeric_e = (sequential_objective(0.83, x + step) - sequential_objective(0.83, x - step)) / 2e-6
    assert grad_e[n // 2] == pytest.approx(numeric_e, rel=1e-6, abs=1e-8)


def test_span_sums_equal_the_dense_product_and_its_gradient():
    import pytensor
    import pytensor.tensor as pt

    from forecast.families.latent_ar.graph import span_sums

    weights = np.zeros((5, 8))
    weights[0, 1] = 1.0
    weights[1, 2:5] = [1.0, 1.0, 0.5]     # a span covering part of its last bin
    weights[2, 0] = 0.25
    weights[3, 3:8] = 1.0                  # overlaps row 1: bins are shared
    weights[4, 7] = 1.0
    rate = pt.dvector("rate")
    out = span_sums(weights, rate)
    f = pytensor.function([rate], [out, pt.grad((out**2).sum(), rate)], mode="NUMBA")
    x = np.random.default_rng(0).random(8)
    value, grad = f(x)
    np.testing.assert_allclose(value, weights @ x, rtol=1e-14)
    np.testing.assert_allclose(grad, 2 * weights.T @ (weights @ x), rtol=1e-13)
    one_bin = np.eye(8)[[3, 1, 4]]          # whole single bins: a gather
    np.testing.assert_allclose(pytensor.function([rate], span_sums(one_bin, rate))(x), one_bin @ x)


def test_bundled_model_builds_with_finite_logp():
    model = LatentARModel(load_bundled()).build()
    logps = model.point_logps()
    assert all(np.isfinite(v) for v in logps.values())
    assert "obs" in logps and "elasticity" in logps
    assert model["obs"].eval().shape == (37,)   # the fitted rows, two of them the 2026 floors


def simulate_series(months: int, truth: dict, seed: int) -> tuple[pd.DataFrame, int]:
    """Monthly counts from the model itself, with a strongly varying presence."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    presence = np.interp(t, [0, months * 0.3, months * 0.6, months - 1], [6.0, 2.0, 8.0, 1.0])
    tau = months // 2
    u = np.zeros(months)
    u[0] = rng.normal(0, truth["sigma"])  # the model starts one innovation from the mean
    for i in range(1, months):
        u[i] = truth["rho"] * u[i - 1] + rng.normal(0, truth["sigma"])
    ref = np.exp(np.mean(np.log(presence)))
    log_rate = (truth["intercept"] + truth["elasticity"] * np.log(presence / ref)
                + truth["decapitation_level"] * (t >= tau) + u)
    counts = rng.poisson(np.exp(log_rate))
    dates = pd.period_range("2010-01", periods=months, freq="M").astype(str)
    return pd.DataFrame({"date": dates, "count": counts, "presence": presence.round(6)}), tau


@pytest.mark.slow
def test_parameter_recovery_90_percent_intervals_cover_truth(tmp_path):
    truth = {"intercept": 1.5, "elasticity": 0.8, "decapitation_level": 0.6, "rho": 0.6, "sigma": 0.3}
    frame, tau = simulate_series(120, truth, seed=1)
    frame.to_csv(tmp_path / "counts.csv", index=False)
    event_date = pd.Period("2010-01", "M") + tau
    (tmp_path / "events.csv").write_text(f"date,kind,name\n{event_date}-01,decapitation,leader\n")
    data = load_counts(tmp_path / "counts.csv", tmp_path / "events.csv")
    result = fit(data, settings=FitSettings(draws=1000, tune=1000, chains=4, seed=3), cache_root=None,
                 progress=False)
    post = result.idata.posterior
    assert result.manifest["diagnostics"]["divergences"] == 0
    for name, value in truth.items():
        draws = post[name].values.ravel()
        lo, hi = np.quantile(draws, [0.05, 0.95])
        print(f"{name}: truth {value}, 90% interval {lo:.3f}..{hi:.3f}")
        assert lo <= value <= hi, name


@pytest.mark.slow
def test_totals_only_recover_the_same_rate_as_monthly_counts(tmp_path):
    rng = np.random.default_rng(4)
    months = 36
    counts = rng.poisson(5.0, months)
    dates = pd.period_range("2015-01", periods=months, freq="M")
    rows = ["start,end,count,bound,definition,use"]
    for q in range(months // 3):
        first, last = dates[3 * q], dates[3 * q + 2]
        rows.append(f"{first.start_time.date()},{last.end_time.date()},{counts[3*q:3*q+3].sum()},"
                    "exact,ref,fit")
    (tmp_path / "totals.csv").write_text("\n".join(rows) + "\n")
    axis = month_axis(dates[0].start_time, dates[-1].start_time)
    totals_data = Dataset("totals", axis, load_observations(tmp_path / "totals.csv"),
                          load_counts_events_empty(), "ref")
    monthly = pd.DataFrame({"date": dates.astype(str), "count": counts})
    monthly.to_csv(tmp_path / "monthly.csv", index=False)
    monthly_data = load_counts(tmp_path / "monthly.csv")
    settings = FitSettings(draws=1000, tune=1000, chains=2, seed=5)
    means = {}
    for name, data in (("totals", totals_data), ("monthly", monthly_data)):
        result = fit(data, settings=settings, cache_root=None, progress=False)
        means[name] = float(result.idata.posterior["rate"].sum("bin").mean())
    observed = counts.sum()
    print(f"posterior mean of the 36-month rate: totals {means['totals']:.1f}, monthly "
          f"{means['monthly']:.1f}, observed total {observed}")
    assert abs(means["totals"] - means["monthly"]) < 0.05 * observed
    assert abs(means["totals"] - observed) < 3 * np.sqrt(observed)


def load_counts_events_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["date", "end_date", "kind", "name", "summary", "source"])


@pytest.mark.slow
def test_bundled_fit_passes_the_gate_and_its_predictive_checks():
    result = fit(load_bundled(), settings=FitSettings(), cache_root=None, progress=False)
    diagnostics = result.manifest["diagnostics"]
    print("bundled fit diagnostics:", diagnostics, "wall", result.manifest["wall_seconds"])
    assert diagnostics["passed"], diagnostics["failures"]
    idata = result.idata
    assert {"prior", "prior_predictive", "posterior_predictive", "log_likelihood"} <= set(idata.groups())
    fitted = result.model.dataset.fitted
    ppc = idata.posterior_predictive["obs"].stack(s=("chain", "draw")).values  # (obs, samples)
    tails = tail_probabilities(ppc, fitted["lo"].to_numpy(), fitted["hi"].to_numpy())
    outside = fitted["id"][outside_central(ppc, fitted["lo"].to_numpy(), fitted["hi"].to_numpy())].tolist()
    print("observations outside their central 95% predictive interval:", outside,
          "median tail probability:", float(np.median(tails)))
    # A predictive check, not a gate: a few misfits are allowed (the model puts the Gaza-war
    # pulse on 7 October 2023 while the militia wave began on the 17th), a systematic one is not.
    assert len(outside) <= 0.1 * len(fitted)
    assert np.median(tails) > 0.1
    prior_ppc = idata.prior_predictive["obs"].values
    assert np.isfinite(prior_ppc).all() and (prior_ppc >= 0).all()


def test_numpy_pointwise_log_likelihood_equals_pymcs_compiled_one():
    """The numpy log-likelihood (used for LOO) against PyMC's, on prior draws as a fake posterior."""
    import arviz as az
    import pymc as pm

    latent = LatentARModel(load_bundled())
    model = latent.build()
    with model:
        prior = pm.sample_prior_predictive(draws=40, random_seed=3).prior
    fake = az.InferenceData(posterior=prior)
    expected = pm.compute_log_likelihood(fake, model=model, progressbar=False,
                                         extend_inferencedata=False)["obs"]
    got = latent.pointwise_log_likelihood(prior)
    assert got.shape == expected.shape == (1, 40, len(latent.dataset.fitted))
    finite = np.isfinite(expected.values)
    assert finite.mean() > 0.9
    np.testing.assert_allclose(got.values[finite], expected.values[finite], rtol=1e-6, atol=1e-8)
    assert list(got["observation"].values) == list(expected["observation"].values)
