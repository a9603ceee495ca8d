"""Model comparison (PSIS-LOO), stacking weights and the mixing of scenario draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from forecast.ensemble import allocate_draws, compare_models, mix_scenario_draws
from forecast.errors import InputError


def idata_with_loglik(y: np.ndarray, means: np.ndarray, ids: list[str]) -> az.InferenceData:
    """Poisson log-likelihood of y under per-draw means (chain 2, draw 200)."""
    loglik = stats.poisson.logpmf(y[None, None, :], means[..., None])
    return az.from_dict(posterior={"m": means},
                        log_likelihood={"obs": loglik},
                        coords={"observation": ids}, dims={"obs": ["observation"]})


def test_the_model_that_predicts_better_gets_the_stacking_weight():
    rng = np.random.default_rng(0)
    y = rng.poisson(5.0, 60)
    ids = [f"o{i}" for i in range(60)]
    good = idata_with_loglik(y, rng.normal(5.0, 0.2, (2, 200)), ids)
    bad = idata_with_loglik(y, rng.normal(12.0, 0.2, (2, 200)), ids)
    table, high_k = compare_models({"good": good, "bad": bad})
    weights = dict(zip(table["model"], table["weight"]))
    assert weights["good"] > 0.95 and abs(sum(weights.values()) - 1) < 1e-9
    assert table.iloc[0]["model"] == "good" and table.iloc[1]["elpd_diff"] > 0
    assert high_k == {"good": [], "bad": []}


def test_comparison_refuses_other_observations():
    rng = np.random.default_rng(1)
    y = rng.poisson(5.0, 10)
    a = idata_with_loglik(y, rng.normal(5.0, 0.2, (2, 50)), [f"o{i}" for i in range(10)])
    b = idata_with_loglik(y, rng.normal(5.0, 0.2, (2, 50)), [f"p{i}" for i in range(10)])
    with pytest.raises(InputError, match="other observations"):
        compare_models({"a": a, "b": b})
    with pytest.raises(InputError, match="at least two"):
        compare_models({"a": a})


def test_draws_are_allocated_in_proportion_to_the_weights():
    owner = allocate_draws({"a": 0.7, "b": 0.25, "c": 0.05}, 4000, seed=3)
    assert np.bincount(owner).tolist() == [2800, 1000, 200]
    np.testing.assert_array_equal(owner, allocate_draws({"a": 0.7, "b": 0.25, "c": 0.05}, 4000, seed=3))
    assert np.bincount(allocate_draws({"a": 1 / 3, "b": 2 / 3}, 10, seed=1)).sum() == 10


def scenario_draws(value: float) -> xr.Dataset:
    shape = (2, 100, 3)
    data = np.arange(np.prod(shape), dtype=float).reshape(shape) + value
    return xr.Dataset({"rate": (("scenario", "draw", "month"), data),
                       "count": (("scenario", "draw", "month"), data.astype(np.int64)),
                       "presence": (("scenario", "draw", "month"), np.ones(shape))},
                      coords={"scenario": ["base", "alt"], "draw": np.arange(100), "month": ["a", "b", "c"]})


def test_mixing_keeps_draws_paired_across_scenarios():
    a, b = scenario_draws(0.0), scenario_draws(0.5)
    mixed = mix_scenario_draws({"a": a, "b": b}, {"a": 0.4, "b": 0.6}, seed=5)
    source = mixed["source_model"].values
    assert (source == "b").sum() == 60
    for d in range(100):
        expected = (b if source[d] == "b" else a)["rate"].values[:, d]
        np.testing.assert_array_equal(mixed["rate"].values[:, d], expected)   # every scenario, same model
    assert (mixed["capped_share"].values == 0).all()
