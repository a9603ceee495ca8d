"""The interval likelihood against brute-force summation, and its gradient."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import special, stats

from forecast.core.likelihood import IntervalTable, interval_logp, interval_logp_numpy

CASES = [  # lo, hi, mu
    (0, 0, 0.5), (3, 3, 2.0), (5, 9, 7.0), (0, np.inf, 3.0), (1, np.inf, 0.01), (204, np.inf, 150.0),
    (204, np.inf, 300.0), (2, 6, 3.3), (10, 10, 40.0), (46, 48, 47.0), (161, 179, 120.0),
    (15, np.inf, 2.0), (7, np.inf, 6.5),
]


def brute_force(lo, hi, mu):
    top = int(hi) if np.isfinite(hi) else int(mu + 50 * np.sqrt(mu) + lo + 200)
    return np.log(stats.poisson.pmf(np.arange(lo, top + 1), mu).sum())


def compiled(table, mode=None):
    mu = pt.dvector("mu")
    logp = interval_logp(mu, table)
    return pytensor.function([mu], [logp, pt.grad(logp.sum(), mu)], mode=mode)


def test_interval_logp_equals_brute_force_summation():
    lo, hi, mu = (np.array(x, dtype=float) for x in zip(*CASES))
    logp, grad = compiled(IntervalTable.build(lo.astype(int), hi))(mu)
    expected = np.array([brute_force(*c) for c in CASES])
    np.testing.assert_allclose(logp, expected, rtol=1e-9, atol=1e-12)
    assert np.isfinite(grad).all()


def test_gradient_matches_finite_differences():
    lo, hi, mu = (np.array(x, dtype=float) for x in zip(*CASES))
    f = compiled(IntervalTable.build(lo.astype(int), hi))
    _, grad = f(mu)
    eps = 1e-6 * mu
    numeric = (f(mu + eps)[0] - f(mu - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-8)


def test_far_lower_tail_stays_finite():
    f = compiled(IntervalTable.build(np.array([204]), np.array([np.inf])))
    logp, grad = f(np.array([0.5]))
    assert np.isfinite(logp).all() and np.isfinite(grad).all()
    expected = stats.poisson.logpmf(204, 0.5)  # the first term dominates
    assert logp[0] == pytest.approx(expected, rel=1e-3)


def test_numpy_reference_agrees_with_graph():
    lo, hi, mu = (np.array(x, dtype=float) for x in zip(*CASES))
    graph = compiled(IntervalTable.build(lo.astype(int), hi))(mu)[0]
    np.testing.assert_allclose(interval_logp_numpy(mu, lo, hi), graph, rtol=1e-7)


def test_numpy_interval_logp_stays_finite_far_in_the_upper_tail():
    from scipy import stats

    from forecast.core.likelihood import interval_logp_numpy

    mu = np.array([1e6, 1e9, 1e9])
    got = interval_logp_numpy(mu, np.array([3, 3, 2]), np.array([3, 3, 4]))
    expected = [stats.poisson.logpmf(3, 1e6), stats.poisson.logpmf(3, 1e9),
                np.logaddexp.reduce(stats.poisson.logpmf([2, 3, 4], 1e9))]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_numpy_reference_stays_finite_and_exact_far_below_the_interval():
    """mu far below the interval: a difference of cdfs near 1 would cancel to log 0."""
    lo = np.array([24.0, 46.0, 15.0, 204.0, 30.0])
    hi = np.array([24.0, 48.0, 25.0, np.inf, np.inf])
    mu = np.array([0.78, 0.35, 0.29, 0.64, 3.7])
    graph = compiled(IntervalTable.build(lo.astype(int), hi))(mu)[0]
    got = interval_logp_numpy(mu, lo, hi)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, graph, rtol=1e-9)


def exact_log_sf(lo: float, mu: float) -> float:
    """log P(Y >= lo) by summing the pmf (below lo, where scipy's logsf underflows to -inf
    from about lo = 700 / mu) or by scipy (at and above lo, where it is near 1)."""
    if mu >= lo:
        return float(stats.poisson.logsf(lo - 1, mu))
    ks = lo + np.arange(int(12 * np.sqrt(lo) + 200))
    return float(special.logsumexp(stats.poisson.logpmf(ks, mu)))


LARGE_LO = np.array([1, 2, 7, 40, 204, 999, 1000, 3600, 3800, 10_000, 30_000, 100_000])
RATIOS = np.concatenate([[1e-3, 0.01, 0.1, 0.3, 0.5, 0.7], np.linspace(0.8, 1.2, 9), [1.5, 3.0, 10.0]])


def _grid() -> tuple[np.ndarray, np.ndarray]:
    lo, ratio = np.meshgrid(LARGE_LO, RATIOS, indexing="ij")
    return lo.ravel(), (lo * ratio).ravel()


@pytest.mark.parametrize("mode", ["FAST_RUN", "NUMBA"])   # PyTensor's C and numba backends
def test_open_interval_is_finite_and_exact_for_large_lo_on_both_sides_of_mu(mode):
    lo, mu = _grid()
    logp, grad = compiled(IntervalTable.build(lo, np.full(lo.shape, np.inf)), mode)(mu)
    expected = np.array([exact_log_sf(a, m) for a, m in zip(lo, mu)])
    assert np.isfinite(logp).all() and np.isfinite(grad).all()
    np.testing.assert_allclose(logp, expected, rtol=1e-8, atol=1e-9)
    # where scipy's own logsf is finite it agrees too
    scipy = stats.poisson.logsf(lo - 1, mu)
    ok = np.isfinite(scipy)
    assert (~ok).sum() > 0     # the grid reaches where scipy's logsf underflows
    np.testing.assert_allclose(logp[ok], scipy[ok], rtol=1e-8, atol=1e-9)
    # d/dmu P(Y >= lo) = P(Y = lo - 1): the gradient is exact, not merely finite
    np.testing.assert_allclose(grad, np.exp(stats.poisson.logpmf(lo - 1, mu) - expected),
                               rtol=1e-6, atol=1e-12)


def test_numpy_open_interval_is_finite_and_exact_on_the_same_grid():
    lo, mu = _grid()
    got = interval_logp_numpy(mu, lo, np.full(lo.shape, np.inf))
    expected = np.array([exact_log_sf(a, m) for a, m in zip(lo, mu)])
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-9)


def test_open_interval_gradient_is_finite_at_the_old_underflow():
    # lo = 3,800: the incomplete gamma function underflowed (log -inf, gradient +inf)
    mu = np.array([1900.0, 2500.0, 3000.0, 3700.0])
    logp, grad = compiled(IntervalTable.build(np.full(4, 3800), np.full(4, np.inf)))(mu)
    assert np.isfinite(logp).all() and np.isfinite(grad).all() and (grad > 0).all()


def test_predictive_draws_are_finite_for_any_rate():
    """A vague prior's prior predictive reaches rates numpy's Poisson generator refuses."""
    from forecast.core.likelihood import POISSON_DRAW_MAX, poisson_draws

    rng = np.random.default_rng(0)
    mu = np.array([0.0, 3.0, 1e25, np.inf, np.nan, -1.0])
    with pytest.raises(ValueError):
        rng.poisson(mu[:3])
    draws = poisson_draws(mu, rng)
    assert draws[0] == 0 and min(draws[2], draws[3]) >= 0.9 * POISSON_DRAW_MAX and draws[4] == draws[5] == 0
