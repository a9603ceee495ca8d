"""The scenario engine's compiled loops against the numpy/scipy definitions they replace."""

from __future__ import annotations

import numpy as np
from scipy import stats

from forecast.scenarios.kernels import latent_ar_rates, piecewise_linear_bin_means, poisson_quantiles


def test_poisson_quantiles_equal_scipys_inverse_cdf():
    rng = np.random.default_rng(0)
    n = 200_000
    lam = np.exp(rng.uniform(np.log(1e-4), np.log(1e5), n))      # small, around 30, huge
    u = rng.random(n)
    u[:50] = rng.random(50) * 1e-12                               # far lower tail
    u[50:100] = 1 - rng.random(50) * 1e-12                        # far upper tail
    lam[100:200] = 0.0
    got = poisson_quantiles(u.reshape(400, 500), lam.reshape(400, 500)).reshape(-1)
    expected = np.where(lam > 0, stats.poisson.ppf(u, np.maximum(lam, 1e-300)), 0.0)
    assert np.array_equal(got, expected)


def test_path_bin_means_equal_daily_interpolation_averaged_per_bin():
    rng = np.random.default_rng(1)
    first = np.arange(0, 300, 30)
    last = first + np.array([29, 29, 27, 29, 29, 29, 29, 29, 29, 29])   # bins of unequal length
    knot_x = np.sort(rng.integers(-20, 320, (500, 4)), axis=1).astype(float)
    knot_x[:20, 2] = knot_x[:20, 1]                                  # same-day knots: a jump
    knot_y = rng.normal(size=(500, 4))
    got = piecewise_linear_bin_means(first, last, knot_x, knot_y)
    expected = np.array([[np.interp(np.arange(a, b + 1.0), knot_x[d], knot_y[d]).mean()
                          for a, b in zip(first, last)] for d in range(500)])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_latent_ar_rates_follow_the_recursion_cap_and_closed_bins():
    rng = np.random.default_rng(2)
    n, h, cap = 300, 12, 1e3
    rho, u_last = rng.uniform(0, 1, n), rng.normal(size=n)
    log_sigma, innovations = rng.normal(-1, 0.5, (n, h)), rng.normal(size=(n, h))
    log_rate = rng.normal(2, 2, (n, h))
    open_ = rng.random((n, h)) > 0.1
    got = latent_ar_rates(rho, u_last, log_sigma, innovations, log_rate, cap, open_)
    u, prev = np.empty((n, h)), u_last
    for t in range(h):
        prev = rho * prev + np.exp(log_sigma[:, t]) * innovations[:, t]
        u[:, t] = prev
    expected = np.where(open_, np.minimum(np.exp(log_rate + u), cap), 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    assert (got == cap).sum() == ((np.exp(log_rate + u) >= cap) & open_).sum() > 0
