"""The batched Monte Carlo standard errors equal ArviZ's, cell by cell."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from forecast.scenarios.mcse import ess, mcse_mean, mcse_quantile, split_chains


def _arviz(cells: np.ndarray, method: str, **kwargs) -> list[float]:
    return [float(np.ravel(az.mcse(c, method=method, **kwargs))[0]) for c in cells]


def _cells(seed: int) -> np.ndarray:
    """(cells, 4 chains, 300 draws): AR(1) chains of every persistence, integer counts with
    ties, heavy tails, a nearly constant cell and one chain stuck apart from the others."""
    rng = np.random.default_rng(seed)
    out = []
    for phi in (0.0, 0.3, 0.7, 0.95, 0.995, -0.5):
        x = np.zeros((4, 300))
        for t in range(1, 300):
            x[:, t] = phi * x[:, t - 1] + rng.normal(size=4)
        out += [x, np.round(np.exp(x))]
    out.append(rng.poisson(0.05, (4, 300)).astype(float))
    out.append(rng.standard_cauchy((4, 300)))
    stuck = rng.normal(size=(4, 300))
    stuck[0] += 5.0
    out.append(stuck)
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_ess_and_mcse_equal_arviz(seed):
    cells = _cells(seed)
    np.testing.assert_allclose(ess(split_chains(cells)),
                               [float(np.ravel(az.ess(c, method="mean"))[0]) for c in cells], rtol=1e-9)
    np.testing.assert_allclose(mcse_mean(cells), _arviz(cells, "mean"), rtol=1e-9)
    for prob in (0.025, 0.1, 0.5, 0.9, 0.975):
        np.testing.assert_allclose(mcse_quantile(cells, prob), _arviz(cells, "quantile", prob=prob),
                                   rtol=1e-9, atol=1e-12)


def test_odd_draws_short_chains_and_constant_cells():
    rng = np.random.default_rng(3)
    for draws in (5, 6, 7, 8, 9, 51):
        cells = rng.normal(size=(3, 2, draws)).cumsum(axis=2)
        np.testing.assert_allclose(mcse_mean(cells), _arviz(cells, "mean"), rtol=1e-9)
        np.testing.assert_allclose(mcse_quantile(cells, 0.9), _arviz(cells, "quantile", prob=0.9), rtol=1e-9)
    constant = np.full((1, 4, 100), 3.0)
    assert ess(split_chains(constant))[0] == 400 and mcse_mean(constant)[0] == 0


def test_chains_shorter_than_arviz_accepts_give_nan_as_arviz_does():
    for draws in (1, 2, 3):
        x = np.arange(draws, dtype=float).reshape(1, 1, draws)
        assert np.isnan(float(np.ravel(az.mcse(x[0], method="quantile", prob=0.5))[0]))
        assert np.isnan(mcse_quantile(x, 0.5)[0]) and np.isnan(mcse_mean(x)[0])
