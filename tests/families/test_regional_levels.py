"""regional_ar samples the regions' levels as their centre and zero-sum deviations: the same
joint prior of (intercept, region_sd, region_offset) as intercept + region_sd * z, z ~ N(0, 1)."""

from __future__ import annotations

import numpy as np
import pymc as pm
from scipy import stats

from forecast.data.loaders import load_counts
from forecast.data.simulate_regions import RegionTruth, simulate_regions
from forecast.families import make_family

DRAWS = 20_000
NAMES = ["intercept", "region_sd", "region_offset"]


def three_region_family(write, priors_text: str | None = None):
    truth = RegionTruth(offsets={"north": 0.4, "south": -0.3, "east": -1.0})
    sim = simulate_regions(months=24, truth=truth, seed=2)
    priors = write("priors.toml", priors_text) if priors_text else None
    return make_family("regional_ar", load_counts(sim.write_csv(write("regions.csv", ""))), priors)


def draws_of(model: pm.Model, seed: int) -> dict[str, np.ndarray]:
    with model:
        prior = pm.sample_prior_predictive(draws=DRAWS, random_seed=seed, var_names=NAMES).prior
    return {name: prior[name].stack(s=("chain", "draw")).transpose("s", ...).values for name in NAMES}


def non_centred(mu: float, sigma: float, tau: float, regions: list[str]) -> pm.Model:
    """The plain parametrisation, written out."""
    with pm.Model(coords={"region": regions}) as model:
        pm.Normal("intercept", mu, sigma)
        region_sd = pm.HalfNormal("region_sd", tau)
        z = pm.Normal("z", 0.0, 1.0, dims="region")
        pm.Deterministic("region_offset", region_sd * z, dims="region")
    return model


def test_centre_and_zero_sum_deviations_give_the_non_centred_prior(write):
    family = three_region_family(write)
    model = family.build()
    free = {rv.name for rv in model.free_RVs}
    assert {"region_centre_z", "region_spread_z", "intercept_z"} <= free and "region_z" not in free
    intercept_prior = family.priors.get("intercept").params
    tau = family.priors.get("region_sd").params["sigma"]
    regions = list(family.dataset.regions)
    new = draws_of(model, seed=1)
    old = draws_of(non_centred(intercept_prior["mu"], intercept_prior["sigma"], tau, regions), seed=2)
    assert stats.ks_2samp(new["intercept"], old["intercept"]).pvalue > 0.001
    assert stats.ks_2samp(new["region_sd"], old["region_sd"]).pvalue > 0.001
    for j in range(len(regions)):
        assert stats.ks_2samp(new["region_offset"][:, j], old["region_offset"][:, j]).pvalue > 0.001
        # the region's level a + a_r, the quantity the data see
        level = {k: d["intercept"] + d["region_offset"][:, j] for k, d in (("new", new), ("old", old))}
        assert stats.ks_2samp(level["new"], level["old"]).pvalue > 0.001
    # the joint law: z = offset / tau is N(0, 1), independent across regions and of the intercept
    z = new["region_offset"] / new["region_sd"][:, None]
    assert stats.kstest(z.ravel(), "norm").pvalue > 0.001
    corr = np.corrcoef(np.column_stack([new["intercept"], z]).T)
    assert np.abs(corr[np.triu_indices_from(corr, k=1)]).max() < 0.03


def test_a_non_normal_intercept_prior_keeps_the_plain_form(write):
    family = three_region_family(write, '[intercept]\ndist = "StudentT"\nnu = 4.0\nmu = 0.0\nsigma = 1.0\n')
    free = {rv.name for rv in family.build().free_RVs}
    assert {"intercept", "region_z"} <= free and "region_centre_z" not in free
