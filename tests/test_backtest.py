"""Backtests: truncation, targets, scores, baselines, executors, SBC and the CLI."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr
from scipy import stats

from forecast.core.likelihood import interval_logp_numpy
from forecast.core.predictive import NegBinomial, PoissonMixture, quantiles, score
from forecast.data.loaders import load_counts
from forecast.evaluation import baselines
from forecast.evaluation.backtest import (
    ALL_MODELS,
    KNOWN_MODELS,
    origin_seed,
    run_backtest,
    summarise,
)
from forecast.evaluation.truncate import targets, truncate
from forecast.scenarios.toolkit import observed_scenario
from tests.conftest import counts_csv, fake_posterior

BASELINES_ONLY = ("zero", "last_value", "hist_mean", "negbin", "tsb")


def _row(id_, start, end, count, definition="counts", bound="exact", lo=None, hi=None, use="fit"):
    lo = count if lo is None else lo
    hi = float(count) if hi is None else hi
    return {"id": id_, "start": pd.Timestamp(start), "end": pd.Timestamp(end), "count": count,
            "bound": bound, "lo": lo, "hi": hi, "definition": definition, "region": "", "use": use,
            "source": "test"}


@pytest.fixture
def dataset(write):
    """24 monthly counts 2022-01..2023-12 with presence, plus spans of a second definition."""
    ds = load_counts(write("counts.csv", counts_csv(24, seed=3)))
    extra = pd.DataFrame([
        _row("straddle", "2023-04-15", "2023-05-10", 3, "other"),
        _row("before", "2023-03-01", "2023-04-14", 4, "other"),
        _row("span", "2023-06-01", "2023-07-31", 9, "other"),
        _row("bound", "2023-05-01", "2023-05-31", 2, "other", "at_least", 2, np.inf),
        _row("late", "2023-07-01", "2023-09-30", 5, "other"),
    ])
    events = pd.DataFrame({"date": pd.to_datetime(["2022-06-10", "2023-04-20"]),
                           "end_date": pd.to_datetime(["2023-06-30", pd.NaT]),
                           "kind": ["militia_truce", "us_strike"], "name": ["truce", "strike"],
                           "summary": "", "source": ""})
    return replace(ds, observations=pd.concat([ds.observations, extra], ignore_index=True),
                   events=events)


def test_truncate_drops_rows_straddling_the_origin(dataset):
    origin = dataset.axis.index_of(pd.Timestamp("2023-05-01"))      # bin 16
    past = truncate(dataset, origin)
    assert past.axis.n == origin and past.axis.labels[-1] == "2023-04"
    ids = set(past.observations["id"])
    assert "before" in ids and "straddle" not in ids and "span" not in ids
    assert (past.observations["end"] < pd.Timestamp("2023-05-01")).all()
    assert len(past.fitted[past.fitted["definition"] == "counts"]) == origin
    np.testing.assert_array_equal(past.presence, dataset.presence[:origin])
    assert list(past.events["name"]) == ["truce", "strike"]
    assert past.events["end_date"].isna().all()       # the truce's later end is not known yet
    assert past.weights().shape == (len(past.fitted), origin)


def test_targets_and_steps(dataset):
    origin = dataset.axis.index_of(pd.Timestamp("2023-05-01"))
    rows = targets(dataset, origin, 3)                   # May, June, July 2023
    by_id = dict(zip(rows["id"], rows["step"]))
    assert by_id["counts:2023-05"] == 1 and by_id["counts:2023-06"] == 2
    assert by_id["counts:2023-07"] == 3
    assert by_id["span"] == 3 and by_id["bound"] == 1
    assert "straddle" not in by_id and "late" not in by_id and "counts:2023-08" not in by_id
    assert rows.set_index("id").loc["span", "bins"] == pytest.approx(2.0)


def test_closed_form_crps_matches_a_large_ensemble():
    rng = np.random.default_rng(1)
    for mu, y in [(3.7, 5), (0.4, 0), (12.0, 7)]:
        closed = PoissonMixture(mu).crps(y, rng)
        sample = sr.crps_ensemble(float(y), rng.poisson(mu, 200_000).astype(float))
        assert closed == pytest.approx(sample, abs=0.01)
    nb = NegBinomial.from_mean(6.0, 1.5)
    draws = stats.nbinom.rvs(nb.n, nb.p, size=200_000, random_state=2).astype(float)
    assert nb.crps(4, rng) == pytest.approx(sr.crps_ensemble(4.0, draws), abs=0.02)
    assert PoissonMixture(0.0).crps(3, rng) == 3.0


@pytest.mark.parametrize("lo,hi", [(2, 6), (3, np.inf), (4, 4), (0, 1)])
def test_interval_log_score_is_the_likelihood_term(lo, hi):
    rng = np.random.default_rng(0)
    mu = 3.2
    expected = -interval_logp_numpy(np.array([mu]), np.array([lo]), np.array([hi]))[0]
    assert score(PoissonMixture(mu), lo, hi, rng)["log_score"] == pytest.approx(expected, rel=1e-9)
    mus = np.array([1.0, 3.0, 8.0])
    mixture = -np.log(np.mean(np.exp(interval_logp_numpy(mus, np.full(3, lo), np.full(3, hi)))))
    assert score(PoissonMixture(mus), lo, hi, rng)["log_score"] == pytest.approx(mixture, rel=1e-9)


def test_interval_coverage_and_brier():
    rng = np.random.default_rng(0)
    dist = PoissonMixture(5.0)
    q = quantiles(dist, [0.1, 0.9])
    assert score(dist, q[1], q[1], rng)["cover80"] == 1.0           # exact count at the band's edge
    assert score(dist, q[1] + 1, q[1] + 1, rng)["cover80"] == 0.0   # just above it
    # a bound or interval has no coverage ("meets the band" holds for nearly any forecast of
    # "at least k"); it gets the probability the forecast gave the reported interval
    for lo, hi in [(q[1], np.inf), (0, np.inf), (2, 6)]:
        s = score(dist, lo, hi, rng)
        assert all(np.isnan(s[c]) for c in ("cover50", "cover80", "cover95"))
        assert s["p_interval"] == pytest.approx(stats.poisson.cdf(hi, 5.0) - stats.poisson.cdf(lo - 1, 5.0))
    assert np.isnan(score(dist, 3, 3, rng)["p_interval"])
    s = score(dist, 2, 6, rng)
    assert np.isnan(s["crps"]) and np.isnan(s["pit"])
    assert s["brier_any"] == pytest.approx((1 - np.exp(-5.0) - 1) ** 2)
    assert np.isnan(score(dist, 0, 3, rng)["brier_any"])            # bounds do not settle y >= 1


def test_bound_coverage_is_not_counted_as_exact_coverage(dataset):
    frame = run_backtest(dataset, [16], 1, ("hist_mean", "zero"), executor="serial")
    bound = frame[frame["target"] == "bound"]
    assert set(bound["kind"]) == {"bound"} and bound[["cover50", "cover80", "cover95"]].isna().all().all()
    table = summarise(frame).set_index("model")
    exact = frame[frame["kind"].isin(["exact_bin", "exact_span"])]
    for model in ("hist_mean", "zero"):
        rows = exact[exact["model"] == model]
        assert table.loc[model, "n_exact"] == len(rows) == 1
        assert table.loc[model, "n_interval"] == 1 and table.loc[model, "n_targets"] == 2
        assert table.loc[model, "cover95"] == rows["cover95"].mean()
        p = frame[(frame["model"] == model) & (frame["target"] == "bound")]["p_interval"].iloc[0]
        assert table.loc[model, "p_interval"] == p
    # the zero forecast gives "at least 2" probability 0 and misses the exact count
    assert table.loc["zero", "p_interval"] == 0.0 and table.loc["zero", "cover95"] == 0.0


class _NaNForecast:
    """A predictive whose interval probability is NaN (a broken forecast)."""

    mean = 1.0

    def log_interval(self, lo, hi):
        return float("nan")

    def cdf(self, k):
        return np.asarray(PoissonMixture(1.0).cdf(k))

    def upper(self):
        return 20

    def crps(self, y, rng):
        return 0.5


def test_a_nan_score_raises_naming_model_origin_and_target(dataset, monkeypatch):
    from forecast.evaluation.backtest import ScoreError

    real = baselines.predictive
    monkeypatch.setattr(baselines, "predictive", lambda name, params, bins:
                        _NaNForecast() if name == "tsb" else real(name, params, bins))
    with pytest.raises(ScoreError,
                       match=r"model tsb, origin 2023-05, target counts:2023-05.*log_score = nan"):
        run_backtest(dataset, [16], 1, ("hist_mean", "tsb"), executor="serial")


def test_summary_refuses_nan_scores_and_uneven_target_sets(dataset):
    from forecast.evaluation.backtest import ScoreError

    frame = run_backtest(dataset, [16, 18], 2, ("hist_mean", "zero"), executor="serial")
    table = summarise(frame)
    assert (table["n_targets"] > 0).all()
    assert table.groupby("step")["n_targets"].nunique().eq(1).all()      # same targets for every model
    broken = frame.copy()
    broken.loc[(broken["model"] == "zero") & (broken["target"] == "counts:2023-07"), "log_score"] = np.nan
    with pytest.raises(ScoreError, match=r"model zero, origin 2023-07, target counts:2023-07"):
        summarise(broken)
    with pytest.raises(ScoreError, match="different targets"):
        summarise(frame.drop(frame[(frame["model"] == "zero") & (frame["target"] == "counts:2023-07")].index))


def test_targets_one_model_cannot_forecast_are_scored_by_none(dataset, monkeypatch):
    real = baselines.predictive
    # a model with no forecast of span targets (as the Hawkes families)
    monkeypatch.setattr(baselines, "predictive", lambda name, params, bins:
                        None if name == "tsb" and bins > 1.5 else real(name, params, bins))
    frame = run_backtest(dataset, [16], 3, ("hist_mean", "tsb"), executor="serial")
    span = frame[frame["target"] == "span"]
    assert len(span) == 2 and not span["scored"].any() and span["log_score"].isna().all()
    assert span["note"].str.contains("not scored: no forecast of this target from tsb").all()
    table = summarise(frame)
    assert table.groupby("step")["n_targets"].nunique().eq(1).all()
    assert frame[frame["scored"]].groupby("model")["target"].apply(frozenset).nunique() == 1


def test_randomized_pit_is_uniform_for_the_true_distribution():
    rng = np.random.default_rng(5)
    dist = NegBinomial.from_mean(4.0, 2.0)
    ys = stats.nbinom.rvs(dist.n, dist.p, size=400, random_state=6)
    pit = np.array([score(dist, y, y, rng)["pit"] for y in ys])
    assert ((pit >= 0) & (pit <= 1)).all()
    assert stats.kstest(pit, "uniform").pvalue > 0.01


def test_baselines_use_only_the_past(dataset):
    origin = dataset.axis.index_of(pd.Timestamp("2023-05-01"))
    params = baselines.fit_baselines(truncate(dataset, origin))["counts"]
    counts = dataset.fitted[dataset.fitted["definition"] == "counts"]["count"].to_numpy()
    assert params["mean"] == pytest.approx(counts[:origin].mean())
    assert params["last"] == counts[origin - 1]
    span = baselines.predictive("hist_mean", params, 2.0)
    assert span.mean == pytest.approx(2 * params["mean"])
    assert baselines.predictive("zero", params, 3.0).mean == 0.0


def test_backtest_scores_and_pit_in_unit_interval(dataset):
    origins = [16, 18]
    frame = run_backtest(dataset, origins, 3, BASELINES_ONLY, executor="serial")
    assert set(frame["model"]) == set(BASELINES_ONLY)
    assert set(frame["step"]) == {1, 2, 3}
    pit = frame["pit"].dropna()
    assert len(pit) and ((pit >= 0) & (pit <= 1)).all()
    assert set(frame.loc[frame["kind"] == "bound", "target"]) == {"bound"}
    exact = frame[frame["kind"] == "exact_bin"]
    assert exact["crps"].notna().all()
    table = summarise(frame)
    assert set(table["model"]) == set(BASELINES_ONLY)
    zero = table[table["model"] == "zero"]
    assert (zero["cover95"] < 1).all()


def test_executors_give_identical_scores(dataset):
    from distributed import Client, LocalCluster

    origins = [16, 19]
    pair = ("last_value", "negbin")
    serial = run_backtest(dataset, origins, 2, BASELINES_ONLY, executor="serial", ensemble=pair)
    local = run_backtest(dataset, origins, 2, BASELINES_ONLY, executor="local", ensemble=pair)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl:
        with Client(cl) as client:
            dask = run_backtest(dataset, origins, 2, BASELINES_ONLY, executor=client, ensemble=pair)
    assert "lfo_ensemble" in set(serial["model"])
    pd.testing.assert_frame_equal(serial, local)
    pd.testing.assert_frame_equal(serial, dask)


def test_origin_seed_depends_only_on_run_seed_and_origin():
    assert origin_seed(1, 5) == origin_seed(1, 5)
    assert origin_seed(1, 5) != origin_seed(1, 6) != origin_seed(2, 6)


def test_model_forecast_uses_the_observed_presence(write):
    from forecast.families.latent_ar.graph import LatentARModel
    from forecast.families.latent_ar.simulate import LatentARSimulator

    csv = counts_csv(24).splitlines()
    csv = [csv[0]] + [line.rsplit(",", 1)[0] + f",{2.0 + 0.5 * (i % 3)}" for i, line in enumerate(csv[1:])]
    ds = load_counts(write("p.csv", "\n".join(csv) + "\n"))
    origin = 20
    model = LatentARModel(truncate(ds, origin))
    sim = LatentARSimulator(model, fake_posterior(model, n_draws=50))
    out = sim.simulate(observed_scenario(ds, origin, 4), seed=3)
    np.testing.assert_allclose(out["presence"], np.tile(ds.presence[origin:origin + 4], (50, 1)))
    assert out["rate"].shape == (50, 4)


def test_cli_models_match_the_library():
    from forecast.cli import backtest

    assert backtest.ALL_MODELS == ALL_MODELS
    assert backtest.KNOWN_MODELS == KNOWN_MODELS


def test_cli_backtest_writes_a_new_run(write, tmp_path):
    from forecast.cli import main

    data = write("counts.csv", counts_csv(24, seed=4))
    out = tmp_path / "bt"
    argv = ["backtest", "--data", str(data), "--models", "zero,hist_mean,negbin", "--origins", "2",
            "--horizon", "2", "--serial", "--out", str(out), "--ensemble", "hist_mean,negbin"]
    assert main(argv) == 0
    frame = pd.read_csv(out / "backtest.csv")
    assert set(frame["model"]) == {"zero", "hist_mean", "negbin", "lfo_ensemble"}
    assert (frame.loc[frame["model"] == "lfo_ensemble", "weight"] == 0.5).all()     # too few points
    assert frame["origin"].nunique() == 2
    html = (out / "backtest.html").read_text()
    assert "data:image/png;base64" in html and "Step 1" in html
    assert "Leave-future-out stacking weights" in html
    weights = pd.read_csv(out / "lfo_weights.csv")
    assert set(weights["model"]) == {"zero", "hist_mean", "negbin"}
    assert weights["weight"].sum() == pytest.approx(1.0) and (weights["n_points"] == 2).all()
    assert main(argv) == 2                       # never written over
    assert main(["backtest", "--data", str(data), "--models", "nope", "--serial",
                 "--out", str(tmp_path / "bt2")]) == 2
    assert main(["backtest", "--data", str(data), "--models", "zero,hist_mean", "--serial",
                 "--ensemble", "hist_mean,negbin", "--out", str(tmp_path / "bt3")]) == 2
    assert not (tmp_path / "bt3").exists()


@pytest.mark.slow
def test_model_backtest_identical_on_local_processes_and_dask(dataset):
    from distributed import LocalCluster

    from forecast.config import FitSettings

    settings = FitSettings(draws=30, tune=30, chains=2)
    models = ("latent_ar", "hist_mean")
    origins = [16, 19]
    local = run_backtest(dataset, origins, 2, models, settings, seed=7, executor="local")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        dask = run_backtest(dataset, origins, 2, models, settings, seed=7, executor=cl.scheduler_address)
    assert local["log_score"].notna().all()
    cols = [c for c in local.columns if c != "fit_seconds"]
    differ = [c for c in cols if not local[c].equals(dask[c])]
    assert not differ, (differ, local[differ].head(), dask[differ].head())


@pytest.mark.slow
def test_sbc_ranks_are_in_range():
    from forecast.evaluation.output import sbc_section
    from forecast.evaluation.sbc import PARAMETERS, run_sbc

    ranks = run_sbc(2, seed=11, draws=40, tune=80, chains=2)
    assert len(ranks) == 2
    assert (ranks["draws"] <= 80).all() and (ranks["draws"] * ranks["thin"] >= 80).all()
    for p in PARAMETERS:
        assert (ranks[f"rank_{p}"] >= 0).all() and (ranks[f"rank_{p}"] <= ranks["draws"]).all()
    assert "data:image/png;base64" in sbc_section(ranks)


def _ar1_chains(rho: float, chains: int, n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.empty((chains, n))
    x[:, 0] = rng.standard_normal(chains)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(chains)
    return x


def test_sbc_ranks_come_from_ess_thinned_draws():
    import arviz as az

    from forecast.evaluation.sbc import sbc_ranks, thin_by_ess

    rng = np.random.default_rng(4)
    draws = {"a": _ar1_chains(0.9, 2, 1000, rng), "b": rng.standard_normal((2, 1000))}
    ess = float(az.ess(draws["a"], method="bulk"))
    step, thinned = thin_by_ess(draws)
    assert ess < 300 and step == int(np.ceil(2000 / ess)) and step > 5   # by the worst parameter
    assert thinned["a"].size == thinned["b"].size == 2 * len(range(0, 1000, step))
    assert thinned["a"].size <= ess * 1.05
    np.testing.assert_array_equal(thinned["a"], draws["a"][:, ::step].reshape(-1))
    # the draws kept are about independent: lag-1 autocorrelation of a chain near 0.9^step
    kept = draws["a"][0, ::step]
    assert abs(np.corrcoef(kept[:-1], kept[1:])[0, 1]) < 0.3
    rec = sbc_ranks(draws, {"a": 0.0, "b": 10.0})
    assert rec["draws"] == thinned["a"].size and rec["thin"] == step
    assert rec["rank_a"] == int((thinned["a"] < 0).sum()) and rec["rank_b"] == rec["draws"]
    # independent draws are not thinned
    assert thin_by_ess({"b": rng.standard_normal((2, 500))})[0] == 1


def test_sbc_only_page_has_rank_histograms(tmp_path):
    from forecast.evaluation.output import write_backtest_run
    from forecast.evaluation.sbc import PARAMETERS

    rng = np.random.default_rng(0)
    ranks = pd.DataFrame({"replication": range(5), "draws": 40,
                          **{f"rank_{p}": rng.integers(0, 41, 5) for p in PARAMETERS}})
    out = write_backtest_run(pd.DataFrame(), tmp_path / "sbc", {"seed": 1}, ranks)
    html = (out / "backtest.html").read_text()
    assert "Simulation-based calibration" in html and "data:image/png;base64" in html
    assert (out / "sbc.csv").exists()


def test_quantiles_by_bisection_match_the_tabulated_cdf():
    from forecast.core.predictive import NegBinomial, NegBinomialMixture, PoissonMixture, quantiles

    rng = np.random.default_rng(3)
    probs = np.array([0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975])
    for dist in (PoissonMixture(rng.gamma(2.0, 3.0, 500)), PoissonMixture(0.0), PoissonMixture(7.5),
                 NegBinomial.from_mean(12.0, 2.0), NegBinomialMixture(rng.gamma(2.0, 3.0, 300),
                                                                      np.full(300, 0.6))):
        ks = np.arange(0, dist.upper() + 1)
        table = ks[np.minimum(np.searchsorted(dist.cdf(ks), probs - 1e-12, side="left"), ks.size - 1)]
        np.testing.assert_array_equal(quantiles(dist, probs), table)
    # a heavy-tailed mixture (one explosive draw) is answered without tabulating millions of counts
    heavy = NegBinomialMixture(np.concatenate([np.full(999, 2.0), [5e7]]), np.full(1000, 0.5))
    assert quantiles(heavy, np.array([0.5]))[0] <= 3


def test_a_row_published_after_the_origin_never_informs_it(write):
    """Vintage truncation: a figure published late is unknown at the origin, though its span is past."""
    from forecast.evaluation.backtest import run_backtest

    def dataset(published_2023_06: str):
        rows = ["date,count,published"]
        for month in pd.period_range("2022-01", "2023-12", freq="M").astype(str):
            count, published = (400, published_2023_06) if month == "2023-06" else (3, "")
            rows.append(f"{month},{count},{published}")
        return load_counts(write("c.csv", "\n".join(rows) + "\n"))

    late, early = dataset("2023-09-15"), dataset("2023-06-30")
    origin = late.axis.labels.index("2023-07")
    assert "2023-06" not in {str(d)[:7] for d in truncate(late, origin).fitted["start"]}
    assert "2023-06" in {str(d)[:7] for d in truncate(early, origin).fitted["start"]}
    # where the row was known it changes the forecast; where it was published late it cannot
    means = {name: run_backtest(ds, [origin], 2, ("hist_mean",), executor="serial")["pred_mean"].iloc[0]
             for name, ds in (("late", late), ("early", early))}
    assert means["early"] > 2 * means["late"]


def test_backtest_tasks_carry_the_data_not_its_file_names(dataset, monkeypatch, tmp_path):
    """A worker in another directory or on another machine must not need the data files."""
    from forecast.evaluation import backtest

    seen = []
    monkeypatch.setattr(backtest, "score_origin", lambda task: seen.append(task) or [])
    monkeypatch.chdir(tmp_path)
    run_backtest(replace(dataset, files=(tmp_path / "counts.csv",)), [16, 19], 2, BASELINES_ONLY,
                 executor="serial", priors_file="my_priors.toml")
    assert [t.dataset.files for t in seen] == [(), ()]
    assert {t.priors_file for t in seen} == {str(tmp_path / "my_priors.toml")}
    assert seen[0].dataset.content_hash() == dataset.content_hash()
