"""How much of a contrast comes from the prior: overlap, reweighting, presence ranges."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from forecast.core.priors import PriorSpec
from forecast.data.loaders import load_counts
from forecast.families import make_family
from forecast.prior_dependence import (
    ALTERNATIVE_ELASTICITY,
    overlap,
    prior_dependence_table,
    weighted_quantiles,
)
from forecast.scenarios.spec import parse_scenario
from forecast.simulation import simulate_scenarios
from tests.conftest import REPO, fake_posterior


def test_the_packaged_alternative_priors_are_the_files_in_priors():
    files = {"no_footprint_effect": "elasticity_none.toml", "proportional": "elasticity_strong.toml"}
    for name, file in files.items():
        table = tomllib.loads((REPO / "priors" / file).read_text())["elasticity"]
        spec = PriorSpec(table.pop("dist"), {k: float(v) for k, v in table.items()})
        assert spec == ALTERNATIVE_ELASTICITY[name]


def test_overlap_and_weighted_quantiles():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 4000)
    assert overlap(a, rng.normal(0, 1, 4000)) > 0.9
    assert overlap(a, rng.normal(10, 1, 4000)) < 0.01
    np.testing.assert_allclose(weighted_quantiles(a, np.ones_like(a), [0.1, 0.5, 0.9]),
                               np.quantile(a, [0.1, 0.5, 0.9]), atol=0.01)
    # weights that zero out the negative half move the median to the positive half's median
    median = weighted_quantiles(a, (a > 0).astype(float), [0.5])[0]
    assert median == pytest.approx(np.median(a[a > 0]), abs=0.01)


def test_a_withdrawal_contrast_states_its_extrapolation_and_its_prior_sensitivity(write):
    months = [f"2021-{m:02d}" for m in range(1, 13)] + [f"2022-{m:02d}" for m in range(1, 13)]
    counts = np.random.default_rng(2).poisson(5, 24)
    rows = ["date,count,presence"] + [f"{m},{c},{p:.2f}" for m, c, p in
                                      zip(months, counts, np.linspace(5, 3, 24))]
    family = make_family("latent_ar", load_counts(write("c.csv", "\n".join(rows) + "\n")))
    posterior = fake_posterior(family, n_draws=400)
    # an elasticity the data did not inform: its draws are the default prior's, Normal(0.5, 0.5)
    posterior["elasticity"] = (("chain", "draw"), np.random.default_rng(3).normal(0.5, 0.5, (1, 400)))
    base = parse_scenario('name = "base"\n[horizon]\nmonths = 12\n', "base.toml")
    exit_ = parse_scenario('name = "exit"\nbaseline = "base"\n[horizon]\nmonths = 12\n'
                           '[presence]\npoints = [{ date = "2023-02-01", value = 0.1 }]\n', "exit.toml")
    draws = simulate_scenarios(family, posterior, [base, exit_], seed=1)
    table = prior_dependence_table(family, posterior, [base, exit_], draws, seed=1)
    (row,) = table.to_dict("records")
    assert row["presence_outside_data"] and row["scenario_presence_min"] < row["data_presence_min"]
    assert row["presence_differs"]
    assert 0.0 <= row["prior_overlap"] <= 1.0
    # reweighted to the alternatives: with no footprint effect a priori the withdrawal saves less
    assert row["no_footprint_effect_diff_median"] > row["proportional_diff_median"]
    assert row["no_footprint_effect_p_fewer"] < row["proportional_p_fewer"]
    assert 0.0 <= row["no_footprint_effect_p_fewer"] <= 1.0
    assert np.isfinite(row["no_footprint_effect_pareto_k"])
