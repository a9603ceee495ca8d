"""End dates: a YYYY-MM end runs through the month's last day; `end` only where it acts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from forecast.cli import main
from forecast.core.effects import MODELLED_KINDS
from forecast.data.dataset import ACT_KINDS
from forecast.data.loaders import load_bundled, load_events, load_observations
from forecast.errors import InputError
from forecast.scenarios.spec import parse_scenario

HEAD = 'name = "x"\n[horizon]\nmonths = 6\n'


def test_act_kinds_are_the_kinds_whose_effect_does_not_end() -> None:
    assert set(ACT_KINDS) == {k for k, spec in MODELLED_KINDS.items() if not spec.ends_with_event}


@pytest.mark.parametrize("kind", ACT_KINDS)
def test_scenario_end_on_an_act_is_refused_naming_the_key(kind: str) -> None:
    text = (HEAD + f'[[events]]\nkind = "{kind}"\ndate = "2026-03-15"\nend = "2026-04"\n'
            'effect = {pulse = 0.5}\n')
    with pytest.raises(InputError, match=r"events\[0\]\.end") as err:
        parse_scenario(text, "s.toml")
    assert kind in str(err.value) and "s.toml" in str(err.value)


def test_scenario_month_end_is_the_last_day_and_start_the_first() -> None:
    text = (HEAD + '[[events]]\nkind = "militia_truce"\ndate = "2026-03"\nend = "2026-03"\n'
            'effect = {pulse = -1.0}\n'
            '[[shocks]]\nparameter = "rate_multiplier"\ndate = "2026-02"\nend = "2026-02"\nfactor = 2.0\n')
    scenario = parse_scenario(text, "s.toml")
    event, shock = scenario.events[0], scenario.shocks[0]
    assert event.date.first == pd.Timestamp("2026-03-01")
    assert event.end.first == event.end.last == pd.Timestamp("2026-03-31")
    assert shock.date.first == pd.Timestamp("2026-02-01")
    assert shock.end.first == pd.Timestamp("2026-02-28")


def test_scenario_uniform_month_end_runs_to_the_last_day_of_each_month() -> None:
    text = (HEAD + '[[events]]\nkind = "regional_war"\ndate = "2026-03"\n'
            'end = {uniform = ["2026-04", "2026-06"]}\neffect = {pulse = 1.0}\n')
    end = parse_scenario(text, "s.toml").events[0].end
    assert (end.first, end.last) == (pd.Timestamp("2026-04-30"), pd.Timestamp("2026-06-30"))


def test_events_csv_month_end_date_is_the_last_day(write) -> None:
    path = write("e.csv", "date,kind,end_date\n2024-02,militia_truce,2024-04\n")
    events = load_events(path)
    assert events["date"].iloc[0] == pd.Timestamp("2024-02-01")
    assert events["end_date"].iloc[0] == pd.Timestamp("2024-04-30")


def test_observation_and_published_month_ends_are_last_days(write) -> None:
    path = write("obs.csv", "start,end,count,bound,definition,use,published\n"
                 "2020-01,2020-02,5,exact,dod,fit,2020-03\n")
    row = load_observations(path).iloc[0]
    assert row["start"] == pd.Timestamp("2020-01-01")
    assert row["end"] == pd.Timestamp("2020-02-29")
    assert row["published"] == pd.Timestamp("2020-03-31")


def test_events_csv_end_on_an_act_warns_naming_the_rows(write) -> None:
    path = write("e.csv", "date,kind,end_date\n2024-01-01,us_strike,2024-01-03\n"
                 "2024-02-01,militia_truce,2024-02-10\n2024-03-01,decapitation,2024-03-02\n")
    with pytest.warns(UserWarning, match=r"e\.csv: rows 2 \(us_strike\), 4 \(decapitation\)"):
        events = load_events(path)
    assert len(events) == 3   # kept: the end records the act's last day


def test_bundled_events_load_without_the_act_end_warning() -> None:
    # its seven multi-day US strike series keep their last day, as its README says
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_bundled()
    acts = data.events[data.events["kind"].isin(ACT_KINDS) & data.events["end_date"].notna()]
    assert len(acts) > 0 and ((acts["end_date"] - acts["date"]).dt.days <= 3).all()


def test_scenario_end_on_an_act_exits_2_from_the_cli(write, capsys) -> None:
    path = write("s.toml", HEAD + '[[events]]\nkind = "us_strike"\ndate = "2026-03"\nend = "2026-05"\n')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "s.toml" in err and "events[0].end" in err and "Traceback" not in err


def test_a_shock_ending_in_a_month_acts_through_that_whole_month(write) -> None:
    from forecast.data.loaders import load_counts
    from forecast.families.latent_ar.graph import LatentARModel
    from forecast.scenarios.spec import load_scenarios
    from forecast.simulation import simulate_scenarios
    from tests.conftest import counts_csv, fake_posterior

    model = LatentARModel(load_counts(write("counts.csv", counts_csv())))
    head = '[horizon]\nstart = "2024-01"\nmonths = 6\n'
    base = write("base.toml", 'name = "base"\n' + head)
    shock = write("shock.toml", 'name = "shock"\nbaseline = "base"\n' + head
                  + '[[shocks]]\nparameter = "rate_multiplier"\ndate = "2024-02"\nend = "2024-03"\n'
                  'factor = 0.5\n')
    draws = simulate_scenarios(model, fake_posterior(model), load_scenarios([base, shock]), seed=2)
    ratio = (draws["rate"].sel(scenario="shock") / draws["rate"].sel(scenario="base")).values
    # February and all of March halved (a YYYY-MM end used to stop it on 1 March)
    assert np.allclose(ratio[:, [0, 3, 4, 5]], 1.0) and np.allclose(ratio[:, 1:3], 0.5)
