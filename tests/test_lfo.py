"""Leave-future-out weights: pointwise densities from the backtest, stacking and pseudo-BMA+,
the ensemble run's record of them, and the report section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecast.config import RunConfig
from forecast.data.loaders import load_counts
from forecast.ensemble import LOO_LABEL, lfo_label, pointwise_weights
from forecast.errors import InputError
from forecast.evaluation.lfo import lfo_log_densities, pointwise_log_densities
from forecast.reporting.ensemble_section import ensemble_section


def shifted_level_csv(seed: int = 0) -> str:
    """24 months at about 2 attacks, then 24 at about 20: persistence pays one step ahead."""
    rng = np.random.default_rng(seed)
    counts = np.concatenate([rng.poisson(2.0, 24), rng.poisson(20.0, 24)])
    dates = pd.period_range("2021-01", periods=48, freq="M").astype(str)
    return "date,count\n" + "".join(f"{d},{c}\n" for d, c in zip(dates, counts))


def test_the_better_one_step_ahead_model_gets_most_of_the_lfo_weight(write):
    dataset = load_counts(write("shift.csv", shifted_level_csv()))
    models = ("hist_mean", "last_value", "zero")
    lpd, frame, origins = lfo_log_densities(dataset, models, n_origins=12, steps=1, fit_settings=None,
                                            seed=3, executor="serial")
    assert origins == list(range(36, 48)) and list(lpd.columns) == list(models)
    assert len(lpd) == 12                                  # one target per origin, one step ahead
    assert (frame.loc[frame["step"] == 1, "model"].value_counts() == 12).all()
    for method in ("stacking", "pseudo-bma"):
        table = pointwise_weights(lpd, method, seed=1)
        weights = dict(zip(table["model"], table["weight"]))
        assert weights["last_value"] > 0.9, (method, weights)
        assert weights["zero"] < 1e-6
        assert table.iloc[0]["model"] == "last_value" and (table["n_points"] == 12).all()
        assert sum(weights.values()) == pytest.approx(1.0, abs=1e-12)


def two_model_densities(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.poisson(5.0, n)
    return pd.DataFrame({"near": stats.poisson.logpmf(y, 5.5), "far": stats.poisson.logpmf(y, 7.0)})


@pytest.mark.parametrize("method", ["stacking", "pseudo-bma"])
def test_weights_sum_to_one_and_are_reproducible_with_a_seed(method):
    lpd = two_model_densities()
    first = pointwise_weights(lpd, method, seed=11)
    again = pointwise_weights(lpd, method, seed=11)
    pd.testing.assert_frame_equal(first, again)
    assert first["weight"].sum() == pytest.approx(1.0, abs=1e-12) and (first["weight"] >= 0).all()
    # a constant per point changes no weight (rows are shifted before exp: no underflow at ~1e-300)
    far_below = pointwise_weights(lpd - 690.0, method, seed=11)
    np.testing.assert_allclose(far_below["weight"], first["weight"], atol=1e-6)


def test_pseudo_bma_bootstrap_depends_on_the_seed_only():
    lpd = two_model_densities(n=15, seed=2)
    a = pointwise_weights(lpd, "pseudo-bma", seed=1)["weight"].to_numpy()
    b = pointwise_weights(lpd, "pseudo-bma", seed=2)["weight"].to_numpy()
    assert not np.array_equal(a, b)                     # the Bayesian bootstrap is random ...
    np.testing.assert_array_equal(a, pointwise_weights(lpd, "pseudo-bma", seed=1)["weight"].to_numpy())


def test_weights_refuse_bad_input():
    lpd = two_model_densities()
    with pytest.raises(InputError, match="unknown ensemble method"):
        pointwise_weights(lpd, "bma")
    with pytest.raises(InputError, match="at least two"):
        pointwise_weights(lpd[["near"]])
    with pytest.raises(InputError, match="not finite"):
        pointwise_weights(lpd.assign(near=np.nan))


def test_k_step_densities_use_only_targets_k_bins_ahead(write):
    dataset = load_counts(write("shift.csv", shifted_level_csv(1)))
    lpd, frame, origins = lfo_log_densities(dataset, ("hist_mean", "negbin"), n_origins=4, steps=3,
                                            fit_settings=None, seed=3, executor="serial")
    assert len(origins) == 4 and len(lpd) == 4
    step3 = frame[frame["step"] == 3]
    expected = -step3[step3["model"] == "negbin"].set_index(["origin", "target"])["log_score"]
    pd.testing.assert_series_equal(lpd["negbin"], expected, check_names=False)
    with pytest.raises(InputError, match="no target 5 bin"):
        pointwise_log_densities(frame, steps=5)


def test_config_defaults_to_lfo_and_reads_old_ensembles_as_loo():
    assert RunConfig().weights_from == "lfo"
    old = {"models": ["latent_ar", "hawkes"], "ensemble": "stacking"}
    assert RunConfig.from_manifest(old, "m.json").weights_from == "loo"
    with pytest.raises(InputError, match="--weights-from"):
        RunConfig(weights_from="waic").check()
    with pytest.raises(InputError, match="--lfo-origins"):
        RunConfig(lfo_origins=1).check()
    with pytest.raises(InputError, match="pseudo-bma"):
        RunConfig(models=("latent_ar", "hawkes"), ensemble="bma").check()


def test_ensemble_weights_record_lfo_origins_and_label_loo(write, capsys):
    from forecast.workflows import ensemble_weights
    from tests.test_ensemble import idata_with_loglik

    dataset = load_counts(write("shift.csv", shifted_level_csv()))
    config = RunConfig(models=("hist_mean", "last_value"), ensemble="stacking", lfo_origins=5)
    # the weighing needs only the models' names: baselines stand in for fitted families here
    table, how, lpd = ensemble_weights(config, dataset, {"hist_mean": None, "last_value": None},
                                       executor="serial")
    assert how["weights_from"] == "lfo" and how["label"] == lfo_label(1, 5) and how["n_points"] == 5
    assert how["origins"] == list(dataset.axis.labels[43:48]) and lpd.shape == (5, 2)
    assert table.iloc[0]["model"] == "last_value"

    rng = np.random.default_rng(0)
    y = dataset.fitted["count"].to_numpy()
    ids = list(dataset.fitted["id"])
    idatas = {"a": idata_with_loglik(y, rng.normal(10, 0.2, (2, 100)), ids),
              "b": idata_with_loglik(y, rng.normal(4, 0.2, (2, 100)), ids)}
    loo_config = RunConfig(models=("a", "b"), ensemble="stacking", weights_from="loo")
    table, how, lpd = ensemble_weights(loo_config, dataset, idatas)
    assert how["label"] == LOO_LABEL and lpd is None and "elpd_loo" in table


def test_report_section_names_what_the_weights_come_from():
    table = [{"model": "latent_ar", "weight": 0.8}, {"model": "hawkes", "weight": 0.2}]
    lfo = {"ensemble": {"method": "stacking", "weights_from": "lfo", "label": lfo_label(1, 6),
                        "origins": ["2024-05", "2024-06"], "lead_model": "latent_ar", "table": table,
                        "notes": [{"model": "hawkes", "origin": "2024-05", "note": "unconverged: r-hat"}]}}
    text = ensemble_section(lfo)
    assert "LFO (1-step-ahead, 6 origins, exact refits)" in text and "2024-05, 2024-06" in text
    assert "unconverged: r-hat" in text and "leave-one-out" not in text
    loo = {"ensemble": {"method": "pseudo-bma", "weights_from": "loo", "label": LOO_LABEL,
                        "lead_model": "latent_ar", "table": table,
                        "pareto_k_above_0.7": {"latent_ar": ["r1"]}}}
    text = ensemble_section(loo)
    assert "describes the history, rewards interpolation" in text and "pseudo-BMA+" in text
    assert "Pareto k &gt; 0.7" in text
    # a run made before LFO existed (weights under 'loo', no label) reads as LOO
    assert "rewards interpolation" in ensemble_section({"ensemble": {"lead_model": "a", "loo": table}})


def test_cli_refuses_bad_lfo_options_before_any_fit(tmp_path, capsys):
    from forecast.cli import main

    base = ["run", "scenarios/status_quo.toml", "--data", "forecast/data/files/stretch_2023-11_2024-10.csv",
            "--models", "latent_ar,hawkes", "--ensemble", "stacking", "--runs-root", str(tmp_path)]
    assert main([*base, "--lfo-origins", "1"]) == 2
    assert "--lfo-origins" in capsys.readouterr().err
    assert main([*base, "--lfo-steps", "0"]) == 2
    assert not any(p.name.endswith("-run") for p in tmp_path.iterdir())
