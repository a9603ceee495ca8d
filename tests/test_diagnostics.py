"""The diagnostics gate: every coordinate is checked, and an undefined diagnostic fails."""

from __future__ import annotations

import arviz as az
import numpy as np

from forecast.core.diagnostics import diagnose


def _idata(stuck: bool) -> az.InferenceData:
    rng = np.random.default_rng(0)
    chains, draws = 4, 1000
    ratio = rng.normal(size=(chains, draws, 3))
    if stuck:
        ratio[:, :, 1] = 0.5   # one coordinate that never moved in any chain
    return az.from_dict(
        posterior={"ratio": ratio, "sigma": rng.normal(size=(chains, draws))},
        coords={"definition": ["a", "b", "c"]}, dims={"ratio": ["definition"]},
        sample_stats={"diverging": np.zeros((chains, draws), bool),
                      "energy": rng.normal(size=(chains, draws))},
    )


def test_well_mixed_draws_pass() -> None:
    diag = diagnose(_idata(stuck=False), ["ratio", "sigma"])
    assert diag.passed, diag.failures
    assert diag.max_rhat < 1.01


def test_stuck_coordinate_with_nan_rhat_fails_and_is_named() -> None:
    diag = diagnose(_idata(stuck=True), ["ratio", "sigma"])
    assert not diag.passed
    assert np.isnan(diag.max_rhat)
    assert diag.worst["rhat"] == "ratio[b]"
    assert any("NaN" in f and "ratio[b]" in f for f in diag.failures), diag.failures


def test_nan_ess_fails() -> None:
    idata = _idata(stuck=False)
    idata.posterior["sigma"][0, 10] = np.nan   # a draw that is not a number
    diag = diagnose(idata, ["ratio", "sigma"])
    assert not diag.passed
    assert any("ESS is undefined" in f and "sigma" in f for f in diag.failures), diag.failures
