"""Model comparison (PSIS-LOO), LOO stacking weights and the mixing of scenario draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from forecast.ensemble import allocate_draws, compare_models, mix_scenario_draws
from forecast.errors import InputError
from tests.conftest import total_withdrawal


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


def with_regions(draws: xr.Dataset) -> xr.Dataset:
    """The draws as a regional family gives them: the total split over two regions."""
    out = draws.copy()
    out.coords["region"] = ["north", "south"]
    for name in ("rate", "count", "presence"):
        half = out[name] / 2 if name != "count" else out[name] // 2
        out[f"{name}_by_region"] = xr.concat([half, out[name] - half], dim="region").transpose(..., "region")
    return out


def test_mixing_keeps_per_region_draws_only_when_every_model_has_them():
    a, b = with_regions(scenario_draws(0.0)), with_regions(scenario_draws(0.5))
    mixed = mix_scenario_draws({"a": a, "b": b}, {"a": 0.4, "b": 0.6}, seed=5)
    source = mixed["source_model"].values
    for d in range(100):
        expected = (b if source[d] == "b" else a)["rate_by_region"].values[:, d]
        np.testing.assert_array_equal(mixed["rate_by_region"].values[:, d], expected)
    np.testing.assert_allclose(mixed["rate_by_region"].sum("region").values, mixed["rate"].values)
    # with a model of the total in the mix, no per-region draws are left (half of them would be wrong)
    partial = mix_scenario_draws({"a": a, "b": scenario_draws(0.5)}, {"a": 0.4, "b": 0.6}, seed=5)
    assert "rate_by_region" not in partial and "region" not in partial.coords


STRETCH = "forecast/data/files/stretch_2023-11_2024-10.csv"
EVENTS = "forecast/data/files/events.csv"


def test_run_with_several_models_needs_the_ensemble_method(tmp_path, capsys):
    from forecast.cli import main

    base = ["run", "scenarios/status_quo.toml", "--data", STRETCH, "--events", EVENTS,
            "--runs-root", str(tmp_path)]
    assert main([*base, "--models", "latent_ar,hawkes"]) == 2
    assert "--ensemble stacking" in capsys.readouterr().err
    assert main([*base, "--models", "latent_ar,hawkes", "--ensemble", "stacking", "--fit", "x"]) == 2
    assert main([*base, "--models", "hawkes,hawkes"]) == 2
    # a shock only one family has is refused before any fit, naming the family that has it
    shock = tmp_path / "shock.toml"
    shock.write_text('name = "s"\n[horizon]\nmonths = 3\n[[shocks]]\nparameter = "branching_multiplier"\n'
                     'date = "2026-02-01"\nfactor = 2.0\n')
    assert main(["run", str(shock), "--data", STRETCH, "--events", EVENTS, "--runs-root", str(tmp_path),
                 "--models", "latent_ar,hawkes", "--ensemble", "stacking"]) == 2
    assert "belongs to model(s) hawkes" in capsys.readouterr().err
    assert not any(p.name.endswith("-run") for p in tmp_path.iterdir())


@pytest.mark.slow
def test_cli_ensemble_run_and_compare(tmp_path, capsys):
    from forecast.cli import main

    out = tmp_path / "ens"
    tiny = ["--draws", "100", "--tune", "100", "--chains", "2", "--allow-unconverged"]
    argv = ["run", "scenarios/status_quo.toml", total_withdrawal(tmp_path), "--data", STRETCH, "--events",
            EVENTS, "--models", "latent_ar,hawkes", "--ensemble", "stacking", "--out", str(out),
            "--runs-root", str(tmp_path), "--lfo-origins", "2", *tiny]
    assert main(argv) == 0
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    weights = manifest["ensemble"]["weights"]
    assert set(weights) == {"latent_ar", "hawkes"} and abs(sum(weights.values()) - 1) < 1e-9
    assert manifest["ensemble"]["weights_from"] == "lfo" and manifest["ensemble"]["n_points"] == 2
    assert manifest["ensemble"]["origins"] == ["2024-09", "2024-10"]
    draws = xr.load_dataset(out / "scenarios.nc", engine="h5netcdf")
    shares = {m: float((draws["source_model"].values == m).mean()) for m in weights}
    for m, w in weights.items():
        assert abs(shares[m] - w) <= 1 / draws.sizes["draw"] + 1e-12
    assert "Models and their weights" in (out / "report.html").read_text()
    assert (out / "posterior-hawkes.nc").exists() and (out / "weights.csv").exists()
    assert pd.read_csv(out / "lfo_pointwise.csv").shape == (2, 4)      # origin, target, 2 models
    capsys.readouterr()
    assert main(["compare", str(out)]) == 0
    text = capsys.readouterr().out
    assert "elpd_loo" in text and "latent_ar" in text and "hawkes" in text
    bundled_fit = tmp_path / "bundled"
    capsys.readouterr()
    # a run against itself is no comparison (it gave weights 0.5/0.5 before): refused
    assert main(["compare", str(out), str(out)]) == 2
    assert "given twice" in capsys.readouterr().err
    assert main(["fit", "--data", STRETCH, "--events", EVENTS, "--model", "hawkes", "--out",
                 str(bundled_fit), "--runs-root", str(tmp_path), "--seed", "5", *tiny]) == 0
    assert main(["compare", str(out), str(bundled_fit)]) == 0


def fake_run(folder, model: str, digest: str, idata: az.InferenceData):
    import json

    folder.mkdir()
    idata.to_netcdf(str(folder / "posterior.nc"))
    # the keys every fit manifest has (the run loader checks them)
    diagnostics = {"passed": True, "failures": [], "max_rhat": 1.0, "min_ess_bulk": 400, "min_ess_tail": 400,
                   "divergences": 0, "min_bfmi": 1.0}
    (folder / "manifest.json").write_text(json.dumps({
        "kind": "fit", "model": model, "fit_key": "k", "data": {"content_sha256": digest},
        "priors": {"resolved": {}}, "diagnostics": diagnostics}))
    return folder


def test_compare_command_ranks_runs_and_refuses_other_data(tmp_path, capsys):
    from forecast.cli import main

    rng = np.random.default_rng(2)
    y = rng.poisson(5.0, 40)
    ids = [f"o{i}" for i in range(40)]
    good_fit = idata_with_loglik(y, rng.normal(5, 0.2, (2, 200)), ids)
    good = fake_run(tmp_path / "a", "latent_ar", "d1", good_fit)
    bad = fake_run(tmp_path / "b", "hawkes", "d1", idata_with_loglik(y, rng.normal(9, 0.2, (2, 200)), ids))
    same_fit = idata_with_loglik(y, rng.normal(5, 0.2, (2, 200)), ids)
    other = fake_run(tmp_path / "c", "hawkes", "d2", same_fit)
    assert main(["compare", str(good), str(bad)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "PSIS-LOO on 40 observations" in lines[0]
    assert lines[2].split()[0] == "latent_ar"                  # ranked first
    assert main(["compare", str(good), str(other)]) == 2
    assert "other data" in capsys.readouterr().err


def test_exact_loo_refit_drops_the_row_and_scores_it_under_the_refit(write):
    from forecast.data.loaders import load_counts
    from forecast.families.latent_ar.exact_loo import LeaveOneOutRefit
    from tests.conftest import counts_csv

    dataset = load_counts(write("c.csv", counts_csv(12)))
    ids = list(dataset.fitted["id"])
    y = dataset.fitted["count"].to_numpy()
    rng = np.random.default_rng(4)
    rate = rng.gamma(40.0, 0.1, (2, 100, dataset.axis.n))           # (chain, draw, bin), mean 4
    loglik = stats.poisson.logpmf(y[None, None, :], rate)
    idata = az.from_dict(posterior={"rate": rate}, log_likelihood={"obs": loglik},
                         coords={"observation": ids, "bin": dataset.axis.labels},
                         dims={"obs": ["observation"], "rate": ["bin"]})
    seen = []

    def fit_one(data):
        seen.append(len(data.fitted))
        assert np.isinf(data.fitted["hi"]).sum() == 1                 # the left-out row only
        return idata                                   # a "refit" that returns the same posterior

    wrapper = LeaveOneOutRefit(dataset, fit_one, idata)
    data_ex, row_id = wrapper.sel_observations(np.array([3]))
    left_out = data_ex.fitted[data_ex.fitted["id"] == row_id].iloc[0]
    assert row_id == ids[3] and (left_out["lo"], left_out["hi"]) == (0, np.inf)   # says nothing
    assert dataset.fitted["lo"].iloc[3] == y[3]                       # the original is untouched
    np.testing.assert_allclose(wrapper.log_likelihood__i(row_id, idata).values, loglik[..., 3])
    loo = az.loo(idata, pointwise=True)
    exact = az.reloo(wrapper, loo_orig=loo, k_thresh=-np.inf, verbose=False)   # refit every row
    assert seen == [12] * 12
    lppd = np.log(np.exp(loglik).mean(axis=(0, 1)))
    np.testing.assert_allclose(exact.loo_i.values, lppd)
    assert (exact.pareto_k.values == 0).all()


def test_exact_loo_of_the_only_row_of_a_definition_draws_its_ratio_from_the_prior(write):
    """The refit keeps the definition, so its ratio is sampled from the prior alone (no
    KeyError, and no row dropped from the comparison)."""
    from forecast.data.loaders import load_dataset
    from forecast.families.latent_ar.exact_loo import LeaveOneOutRefit

    rows = ["start,end,count,bound,definition,use"]
    rows += [f"2022-{m:02d},2022-{m:02d},{4 + m % 3},exact,dod,fit" for m in range(1, 13)]
    rows += ["2022-03,2022-05,20,exact,jinsa,fit"]          # jinsa's only row
    dataset = load_dataset(str(write("obs.csv", "\n".join(rows) + "\n")))
    assert dataset.definitions == ["dod", "jinsa"]
    rng = np.random.default_rng(5)
    prior_log_ratio = rng.normal(0.3, 0.5, (2, 100))

    def fit_one(data):
        # like the model: one ratio per non-reference definition that has fitted rows
        post = {"rate": rng.gamma(40.0, 0.1, (2, 100, data.axis.n))}
        coords = {"bin": data.axis.labels, "definition": data.definitions[1:]}
        dims = {"rate": ["bin"]}
        if data.definitions[1:]:
            post["log_ratio"] = prior_log_ratio[..., None]
            dims["log_ratio"] = ["definition"]
        return az.from_dict(posterior=post, coords=coords, dims=dims)

    ids = list(dataset.fitted["id"])
    original = az.from_dict(posterior={"x": rng.normal(size=(2, 100))},
                            log_likelihood={"obs": rng.normal(size=(2, 100, len(ids)))},
                            coords={"observation": ids}, dims={"obs": ["observation"]})
    wrapper = LeaveOneOutRefit(dataset, fit_one, original)
    jinsa_row = ids.index(dataset.fitted.loc[dataset.fitted["definition"] == "jinsa", "id"].iloc[0])
    data_ex, row_id = wrapper.sel_observations(np.array([jinsa_row]))
    assert data_ex.definitions == ["dod", "jinsa"]
    refit = wrapper.sample(data_ex)
    logp = wrapper.log_likelihood__i(row_id, refit).values
    weights = dataset.weights(dataset.fitted.iloc[[jinsa_row]])[0]
    mu = (refit.posterior["rate"].values @ weights) * np.exp(prior_log_ratio)
    np.testing.assert_allclose(logp, stats.poisson.logpmf(20, mu))
