"""The backtest's LFO-weighted ensemble: mixture scores, weights that move, no look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr

from forecast.core.predictive import NegBinomial, PoissonMixture, score
from forecast.data.loaders import load_counts
from forecast.errors import InputError
from forecast.evaluation import mixture
from forecast.evaluation.backtest import run_backtest, summarise
from forecast.evaluation.output import write_backtest_run

EXACT_COLUMNS = ("pred_mean", "log_score", "cover50", "cover80", "cover95", "p_any", "brier_any", "crps")


def _counts(write, counts: list[int], published: dict[int, str] | None = None, start: str = "2020-01"):
    months = pd.period_range(start, periods=len(counts), freq="M").astype(str)
    rows = ["date,count,published"]
    for i, (month, count) in enumerate(zip(months, counts)):
        rows.append(f"{month},{count},{(published or {}).get(i, '')}")
    return load_counts(write("c.csv", "\n".join(rows) + "\n"))


def _two_regimes(n_noisy: int = 14, n_trend: int = 26) -> list[int]:
    """Noisy stationary counts (the negative binomial predicts them better than the last
    value), then a steep trend (the last value predicts it far better)."""
    rng = np.random.default_rng(11)
    noisy = rng.negative_binomial(2.0, 2.0 / 7.0, n_noisy).tolist()
    return noisy + [5 + 3 * k for k in range(n_trend)]


def _exact_crps(dist, y: float) -> float:
    ks = np.arange(dist.upper() + 1, dtype=float)
    return float(np.sum((dist.cdf(ks) - (ks >= y)) ** 2))


def test_mixture_crps_formula_at_w1_is_the_members_ensemble_crps():
    d1 = PoissonMixture(np.array([2.0, 3.5, 6.0]))
    d2 = NegBinomial.from_mean(4.0, 1.5)
    y = 5.0
    e = mixture.crps_expectations(d1, d2, y, np.random.default_rng(3), n=3000)
    same = np.random.default_rng(3)
    a = d1.sample(3000, same).astype(float)
    b = d2.sample(3000, same).astype(float)
    # the formula with w = 1 (0) is member 1's (2's) ensemble CRPS on the same draws, exactly
    assert mixture.mixture_crps(1.0, e) == pytest.approx(float(sr.crps_ensemble(y, a)), rel=1e-9)
    assert mixture.mixture_crps(0.0, e) == pytest.approx(float(sr.crps_ensemble(y, b)), rel=1e-9)
    # and agrees with the members' CRPS within Monte Carlo error (the exact sum over the cdf,
    # and the closed form the negative binomial member's own score uses)
    assert mixture.mixture_crps(1.0, e) == pytest.approx(_exact_crps(d1, y), abs=0.08)
    assert mixture.mixture_crps(0.0, e) == pytest.approx(_exact_crps(d2, y), abs=0.08)
    assert _exact_crps(d2, y) == pytest.approx(d2.crps(y, np.random.default_rng(4)), rel=1e-6)
    # a 30/70 mixture: the formula matches the ensemble CRPS of draws from the mixture
    w = 0.3
    pick = np.random.default_rng(5).random(a.size) < w
    assert mixture.mixture_crps(w, e) == pytest.approx(
        float(sr.crps_ensemble(y, np.where(pick, a, b))), abs=0.05)
    assert e["e12"] == pytest.approx(np.abs(a[:, None] - b[None, :]).mean(), rel=1e-9)


@pytest.mark.parametrize("lo,hi", [(4, 4), (0, 0), (2, 6), (3, math.inf)])
def test_mixture_of_identical_members_scores_as_the_member(lo, hi):
    d = NegBinomial.from_mean(4.0, 1.5)
    member = score(d, lo, hi, np.random.default_rng(0))
    mix = mixture.mixture_scores(mixture.ingredients(d, d, lo, hi, np.random.default_rng(1)), 0.37,
                                 lo, hi, member["crps"], member["crps"])
    for col, value in member.items():
        if math.isnan(value):
            assert math.isnan(mix[col]), col
        elif col == "pit":       # randomized: same bracket [F(y-1), F(y)], another uniform
            assert float(d.cdf(lo - 1)) <= mix[col] <= float(d.cdf(lo))
        elif col == "crps":    # the members' cross term is estimated by Monte Carlo
            assert mix[col] == pytest.approx(value, abs=0.03)
        else:
            assert mix[col] == pytest.approx(value, rel=1e-9), col


@pytest.mark.parametrize("y", [0, 2, 4, 6, 9, 13, 20])
def test_an_equal_mixture_of_two_poissons_scores_as_the_two_draw_mixture(y):
    """w = 1/2 of Poisson(2) and Poisson(9) is PoissonMixture([2, 9]): coverage from the mixed
    CDF grid, log score, P(any) and the PIT bracket must be the latter's exactly."""
    d1, d2, both = PoissonMixture(2.0), PoissonMixture(9.0), PoissonMixture(np.array([2.0, 9.0]))
    direct = score(both, y, y, np.random.default_rng(0))
    mix = mixture.mixture_scores(mixture.ingredients(d1, d2, y, y, np.random.default_rng(1)), 0.5, y, y,
                                 d1.crps(y, None), d2.crps(y, None))
    for col in ("pred_mean", "log_score", "cover50", "cover80", "cover95", "p_any"):
        assert mix[col] == pytest.approx(direct[col], rel=1e-9), col
    assert float(both.cdf(y - 1)) <= mix["pit"] <= float(both.cdf(y))
    assert mix["crps"] == pytest.approx(_exact_crps(both, y), abs=0.05)


def test_ensemble_with_weight_one_scores_as_its_first_member(write, monkeypatch):
    ds = _counts(write, _two_regimes(10, 6))
    monkeypatch.setattr(mixture, "origin_weights",
                        lambda frame, pair, days: {o: (1.0, 0, "forced") for o in days})
    frame = run_backtest(ds, [8, 10, 12], 3, ("last_value", "negbin"), executor="serial",
                         ensemble=("last_value", "negbin"))
    ens = frame[frame["model"] == mixture.NAME].set_index(["origin", "target"])
    member = frame[frame["model"] == "last_value"].set_index(["origin", "target"])
    assert len(ens) == len(member) == 9 and (ens["weight"] == 1.0).all()
    pd.testing.assert_frame_equal(ens[list(EXACT_COLUMNS)], member[list(EXACT_COLUMNS)])
    assert ens["note"].str.startswith("forced").all()


def test_weights_move_from_the_negbin_to_the_model_as_it_predicts_better(write, tmp_path):
    ds = _counts(write, _two_regimes())
    origins = list(range(3, 40))
    frame = run_backtest(ds, origins, 1, ("last_value", "negbin"), executor="serial",
                         ensemble=("last_value", "negbin"))
    weights = frame[frame["model"] == mixture.NAME].drop_duplicates("origin_bin").set_index("origin_bin")
    assert (weights.loc[[3, 4, 5], "weight"] == 0.5).all()
    assert weights.loc[[3, 4, 5], "note"].str.startswith("equal weights").all()
    assert weights.loc[14, "weight"] < 0.3            # the noisy regime: negbin
    assert weights.loc[39, "weight"] > 0.7            # after the trend: the last value
    table = summarise(frame)
    assert mixture.NAME in set(table["model"])
    out = write_backtest_run(frame, tmp_path / "run", {"data": "test", "origins": [],
                                                        "ensemble": ["last_value", "negbin"]})
    assert "LFO ensemble" in (out / "backtest.html").read_text()
    assert mixture.NAME in set(pd.read_csv(out / "summary.csv")["model"])
    assert "weight" in pd.read_csv(out / "backtest.csv").columns


def test_weights_never_use_a_target_published_on_or_after_the_origin(write):
    counts = _two_regimes()
    origin = 30
    day = pd.Period("2020-01", "M") + origin
    on_time = _counts(write, counts)
    # the trend's targets before the origin all published on the origin's first day
    late = _counts(write, counts, {i: f"{day}-01" for i in range(14, origin)})
    weights = {}
    for name, ds in (("on_time", on_time), ("late", late)):
        frame = run_backtest(ds, list(range(3, origin + 1)), 1, ("last_value", "negbin"),
                             executor="serial", ensemble=("last_value", "negbin"))
        row = frame[(frame["model"] == mixture.NAME) & (frame["origin_bin"] == origin)].iloc[0]
        weights[name] = (row["weight"], row["note"])
    assert weights["on_time"][0] > 0.7
    assert weights["late"][0] < 0.3              # only the noisy regime was known at the origin
    assert "from 11 one-step-ahead targets" in weights["late"][1]


def test_the_ensemble_needs_two_contenders_of_the_run(write):
    ds = _counts(write, _two_regimes(10, 4))
    for pair in (("latent_ar", "negbin"), ("negbin", "negbin")):
        with pytest.raises(InputError, match="--ensemble needs two different contenders"):
            run_backtest(ds, [8], 2, ("last_value", "negbin"), executor="serial", ensemble=pair)
