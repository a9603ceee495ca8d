"""Events act from their day: segments inside the bins, pooled effects, volatility regimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.core.effects import (
    DrawnEvent,
    Segments,
    day_of,
    drawn_bin_log_effects,
    effect_log_rate,
    kind_designs,
)
from forecast.data.loaders import load_counts, load_dataset
from forecast.families import make_family
from forecast.scenarios.spec import parse_scenario
from forecast.timeaxis import month_axis
from tests.conftest import fake_posterior


def test_segments_cut_bins_at_event_days_and_weigh_spans_by_days():
    axis = month_axis("2023-10", "2023-12")
    seg = Segments.of(axis, [day_of(pd.Timestamp("2023-10-17")), day_of(pd.Timestamp("2023-11-24")),
                             day_of(pd.Timestamp("2023-11-29")), day_of(pd.Timestamp("2023-12-01"))])
    assert seg.labels() == ["2023-10-01", "2023-10-17", "2023-11-01", "2023-11-24", "2023-11-29",
                            "2023-12-01"]
    np.testing.assert_allclose(seg.share, [16 / 31, 15 / 31, 23 / 30, 5 / 30, 2 / 30, 1.0])
    # a span of 17-31 October covers the second October segment whole and nothing else
    w = seg.weights([pd.Timestamp("2023-10-17")], [pd.Timestamp("2023-10-31")])
    np.testing.assert_allclose(w[0], [0, 1, 0, 0, 0, 0])
    # the bins' sum of exp(0) is the bin itself
    np.testing.assert_allclose(seg.bin_log_sum(np.zeros((2, seg.n))), np.zeros((2, 3)), atol=1e-12)


def test_a_five_day_truce_acts_at_full_strength_on_its_days_only():
    axis = month_axis("2023-01", "2023-12")
    events = pd.DataFrame({"date": [pd.Timestamp("2023-11-24")],
                           "end_date": [pd.Timestamp("2023-11-28")],
                           "kind": ["militia_truce"], "name": ["truce"]})
    (design,) = kind_designs(events, axis)
    pulse = np.array([[-5.0]])                 # a near-total stop while it holds
    effect = effect_log_rate(design, None, pulse, decay=np.array([1.0]))
    november = design.segments.bin_log_sum(effect)[0, 10]
    # 25 of 30 days unaffected, 5 days at exp(-5): the month keeps ~5/6 of its rate, where a
    # month-flat rate would have applied exp(-5 x 5/30) = 0.43 to the whole month
    assert np.exp(november) == pytest.approx(25 / 30 + 5 / 30 * np.exp(-5.0), rel=1e-12)
    assert design.segments.bin_log_sum(effect)[0, 11] == pytest.approx(0.0)   # over by December


def test_drawn_events_match_the_fixed_segments_of_the_history():
    """The scenario engine (days drawn per draw) and the graph's fixed segments agree."""
    axis = month_axis("2024-01", "2024-06")
    day = pd.Timestamp("2024-02-20")
    events = pd.DataFrame({"date": [day], "end_date": [pd.Timestamp("2024-04-03")],
                           "kind": ["regional_war"], "name": ["war"]})
    (design,) = kind_designs(events, axis)
    pulse, decay = np.array([[1.3], [0.4]]), np.array([0.6, 0.9])
    fixed = design.segments.bin_log_sum(effect_log_rate(design, None, pulse, decay))
    drawn = drawn_bin_log_effects(axis, [DrawnEvent(day=np.full(2, day_of(day)),
                                                    stop=np.full(2, day_of(pd.Timestamp("2024-04-04"))),
                                                    pulse=pulse[:, 0], decay=decay, level=None)], 2)
    np.testing.assert_allclose(drawn, fixed, atol=1e-12)


def _two_killings(write):
    months = pd.period_range("2021-01", periods=30, freq="M").astype(str)
    counts = np.random.default_rng(1).poisson(5, 30)
    rows = ["date,count,presence"] + [f"{m},{c},3.0" for m, c in zip(months, counts)]
    events = "date,kind,name,end_date\n2021-06-17,decapitation,first,\n2022-03-03,decapitation,second,\n"
    return load_counts(write("c.csv", "\n".join(rows) + "\n"), events=write("e.csv", events))


def _scenario(text: str):
    return parse_scenario('name = "s"\n[horizon]\nmonths = 12\n' + text, "s.toml")


def test_a_new_killing_draws_its_own_effect_and_does_not_compound_volatility(write):
    model = make_family("latent_ar", _two_killings(write))
    post = fake_posterior(model, n_draws=300)
    sim = model.simulator(post)
    new = '[[events]]\nkind = "decapitation"\ndate = "2023-09-15"\n'
    tied = new + 'effect = "second"\n'
    two_new = new + new
    bg_new = sim.background(_scenario(new), seed=3)
    bg_tied = sim.background(_scenario(tied), seed=3)
    bg_two = sim.background(_scenario(two_new), seed=3)
    level_second = sim.draws.get("decapitation_level")[:, 1]
    # tied: the level change after the event is the group's draws; new: its own draws
    after_tied = bg_tied.log_rate[:, -1] - sim.background(_scenario(""), seed=3).log_rate[:, -1]
    after_new = bg_new.log_rate[:, -1] - sim.background(_scenario(""), seed=3).log_rate[:, -1]
    assert np.corrcoef(after_tied, level_second)[0, 1] > 0.9
    assert abs(np.corrcoef(after_new, level_second)[0, 1]) < 0.3
    # two identical new killings are two draws, not one effect counted twice
    after_two = bg_two.log_rate[:, -1] - sim.background(_scenario(""), seed=3).log_rate[:, -1]
    assert not np.allclose(after_two, 2 * after_new)
    # volatility: the regime after a killing replaces the last one; it never adds up
    vol = sim.draws.get("decapitation_volatility")
    np.testing.assert_allclose(sim.background(_scenario(""), seed=3).log_volatility[:, 0], vol[:, 1])
    np.testing.assert_allclose(bg_tied.log_volatility[:, -1], vol[:, 1])
    assert np.abs(bg_two.log_volatility[:, -1]).max() < np.abs(vol).max() + 5 * 0.3


@pytest.mark.slow
def test_fit_recovers_a_mid_month_war_pulse(write):
    """Simulated at day resolution (decay per day, not per segment); the fit covers the truth."""
    rng = np.random.default_rng(20)
    axis = month_axis("2019-01", "2023-12")
    days = pd.date_range(axis.starts[0], axis.ends[-1], freq="D")
    wars = [("2019-09-18", "2019-10-02"), ("2020-11-21", "2020-11-30"), ("2021-06-12", "2021-06-27"),
            ("2022-04-24", "2022-05-09"), ("2023-02-16", "2023-02-28")]
    truth = {"intercept": np.log(6.0), "pulse": 1.5, "decay": 0.6, "rho": 0.5, "sigma": 0.15}
    u = np.zeros(axis.n)
    for t in range(axis.n):
        u[t] = (truth["rho"] * u[t - 1] if t else 0.0) + truth["sigma"] * rng.standard_normal()
    month = np.array([axis.index_of(d) for d in days])
    log_day = truth["intercept"] + u[month] - np.log(axis.days[month])
    for start, end in wars:
        s, e = pd.Timestamp(start), pd.Timestamp(end)
        on = (days >= s) & (days <= e)
        lag = (days - s).days.to_numpy() / (365.25 / 12)
        log_day = log_day + np.where(on, truth["pulse"] * truth["decay"] ** lag, 0.0)
    daily = rng.poisson(np.exp(log_day))
    # half-month counts: the first and second half of every month
    rows = ["start,end,count,bound,definition"]
    for t in range(axis.n):
        mid = axis.starts[t] + pd.Timedelta(days=14)
        for lo, hi in ((axis.starts[t], mid), (mid + pd.Timedelta(days=1), axis.ends[t])):
            n = int(daily[(days >= lo) & (days <= hi)].sum())
            rows.append(f"{lo.date()},{hi.date()},{n},exact,counter")
    events = "date,kind,name,end_date\n" + "".join(f"{s},regional_war,war,{e}\n" for s, e in wars)
    data = load_dataset(str(write("half.csv", "\n".join(rows) + "\n")), events=write("e.csv", events))
    model = make_family("latent_ar", data)
    idata = model.fit(draws=500, tune=500, chains=2, seed=4)
    pulse = idata.posterior["regional_war_pulse"].values.ravel()
    lo, hi = np.quantile(pulse, [0.05, 0.95])
    print(f"war pulse: truth {truth['pulse']}, 90% interval {lo:.3f} to {hi:.3f}")
    assert lo < truth["pulse"] < hi, (lo, hi)
    assert hi - lo < 1.5      # and the data inform it (the prior's 90% width is ~5)


def test_span_share_puts_a_late_war_on_its_own_days(write):
    model = make_family("latent_ar", _two_killings(write))
    post = fake_posterior(model, n_draws=200)
    sim = model.simulator(post)
    # the fitted data have no war: tie the scenario's war to a stated pulse of log 10
    war = _scenario('[[events]]\nkind = "decapitation"\ndate = "2023-09-28"\n'
                    'effect = { pulse = 2.302585, level = 0.0 }\n')
    out = sim.simulate(war, seed=1)
    bg, rate = out["background"], out["future_rate"]
    september = bg.horizon.future.index_of(pd.Timestamp("2023-09-01"))
    last_days = bg.span_share(rate, pd.Timestamp("2023-09-28"), pd.Timestamp("2023-09-30"))
    first_days = bg.span_share(rate, pd.Timestamp("2023-09-01"), pd.Timestamp("2023-09-27"))
    np.testing.assert_allclose(last_days + first_days, rate[:, september], rtol=1e-10)
    # 3 of 30 days at ~10x carry about 10 x 3 / (27 + 30) of the month, not 3/30 of it
    assert np.median(last_days / rate[:, september]) > 0.4
    whole = bg.span_share(rate, bg.horizon.future.starts[0], bg.horizon.future.ends[-1])
    np.testing.assert_allclose(whole, rate.sum(axis=1), rtol=1e-10)
