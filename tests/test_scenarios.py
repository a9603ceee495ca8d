"""Scenario files and paired forward simulation, on a small dataset and a fake posterior."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.cli import main
from forecast.data.loaders import load_counts
from forecast.errors import InputError
from forecast.families.latent_ar.graph import LatentARModel
from forecast.families.latent_ar.simulate import LatentARSimulator
from forecast.scenarios import summaries
from forecast.scenarios.spec import load_scenarios, parse_scenario
from forecast.simulation import simulate_scenarios
from tests.conftest import counts_csv, fake_posterior

HEAD = '[horizon]\nstart = "2024-01"\nmonths = 12\n'


@pytest.fixture
def model(write):
    events = write("events.csv", "date,kind,name\n2022-06-15,decapitation,leader_2022\n")
    return LatentARModel(load_counts(write("counts.csv", counts_csv()), events))


def scenario(write, name: str, body: str, baseline: str | None = None):
    text = f'name = "{name}"\n' + (f'baseline = "{baseline}"\n' if baseline else "") + HEAD + body
    return write(f"{name}.toml", text)


def test_withdrawal_to_zero_gives_zero_attacks_once_presence_is_zero(model, write):
    path = scenario(write, "out", '[presence]\npoints = [{date = "2024-01", value = 3.0}, '
                    '{date = "2024-06-30", value = 0.0}]\n')
    draws = simulate_scenarios(model, fake_posterior(model), load_scenarios([path]), seed=3)
    counts = draws["count"].sel(scenario="out").values
    presence = draws["presence"].sel(scenario="out").values
    zero_from = int(np.argmax((presence == 0).all(axis=0)))
    assert draws["month_label"].values[zero_from] == "2024-07"
    assert (counts[:, zero_from:] == 0).all()
    assert (draws["rate"].sel(scenario="out").values[:, zero_from:] == 0).all()
    assert counts[:, :zero_from].sum() > 0  # attacks before the withdrawal completes


def test_scenario_identical_to_baseline_has_exactly_zero_contrast(model, write):
    body = ('[presence]\npoints = [{date = "2024-01", value = 3.0}, '
            '{date = {uniform = ["2024-03-01", "2024-09-30"]}, value = 1.0}]\n'
            '[[events]]\nkind = "decapitation"\ndate = {uniform = ["2024-02-01", "2024-05-01"]}\n'
            'effect = "leader_2022"\n')
    base = scenario(write, "base", body)
    twin = scenario(write, "twin", body, baseline="base")
    draws = simulate_scenarios(model, fake_posterior(model), load_scenarios([base, twin]), seed=5)
    diff = draws["count"].sel(scenario="twin") - draws["count"].sel(scenario="base")
    assert (diff.values == 0).all()
    row = summaries.contrasts(draws).iloc[0]
    assert row["p_same_as_baseline"] == 1.0 and row["diff_median"] == 0.0
    assert row["diff_q02_5"] == row["diff_q97_5"] == 0.0 and row["diff_median_mcse"] == 0.0


def test_common_random_numbers_shrink_the_contrast_spread(model, write):
    base = scenario(write, "base", '[presence]\npoints = [{date = "2024-01", value = 3.0}]\n')
    cut = scenario(write, "cut", '[presence]\npoints = [{date = "2024-01", value = 3.0}, '
                   '{date = "2024-04-01", value = 2.0}]\n', baseline="base")
    base_s, cut_s = load_scenarios([base, cut])
    sim = LatentARSimulator(model, fake_posterior(model, n_draws=2000))
    paired = sim.simulate(cut_s, seed=11)["count"].sum(1) - sim.simulate(base_s, seed=11)["count"].sum(1)
    independent = sim.simulate(cut_s, seed=12)["count"].sum(1) - sim.simulate(base_s, seed=11)["count"].sum(1)
    ratio = independent.std() / paired.std()
    print(f"contrast sd: independent {independent.std():.2f}, common {paired.std():.2f}, ratio {ratio:.1f}")
    assert ratio > 3.0
    # both estimate the same expected contrast
    assert abs(paired.mean() - independent.mean()) < 4 * independent.std() / np.sqrt(len(paired))


def test_rate_multiplier_shock_acts_exactly_from_its_date(model, write):
    base = scenario(write, "base", "")
    half = scenario(write, "half", '[[shocks]]\nparameter = "rate_multiplier"\ndate = "2024-07"\n'
                    'factor = 0.5\n', baseline="base")
    draws = simulate_scenarios(model, fake_posterior(model), load_scenarios([base, half]), seed=2)
    ratio = (draws["rate"].sel(scenario="half") / draws["rate"].sel(scenario="base")).values
    assert np.allclose(ratio[:, :6], 1.0) and np.allclose(ratio[:, 6:], 0.5)


def test_decapitation_from_a_stated_prior_moves_the_rate(model, write):
    base = scenario(write, "base", "")
    hit = scenario(write, "hit", '[[events]]\nkind = "decapitation"\ndate = "2024-03-01"\n'
                   'effect = {level = 1.0, pulse = 0.0}\n', baseline="base")
    draws = simulate_scenarios(model, fake_posterior(model), load_scenarios([base, hit]), seed=2)
    ratio = (draws["rate"].sel(scenario="hit") / draws["rate"].sel(scenario="base")).values
    assert np.allclose(ratio[:, :2], 1.0) and np.allclose(ratio[:, 2:], np.e)
    # a stated volatility opens a new regime: the latent noise, hence the rate, changes
    calm = scenario(write, "calm", '[[events]]\nkind = "decapitation"\ndate = "2024-03-01"\n'
                    'effect = {level = 1.0, pulse = 0.0, volatility = -1.0}\n', baseline="base")
    draws = simulate_scenarios(model, fake_posterior(model), load_scenarios([base, calm]), seed=2)
    ratio = (draws["rate"].sel(scenario="calm") / draws["rate"].sel(scenario="base")).values
    assert np.allclose(ratio[:, :2], 1.0) and not np.allclose(ratio[:, 2:], np.e)


def test_same_seed_same_tables_byte_for_byte(model, write, tmp_path):
    base = scenario(write, "base", '[presence]\npoints = [{date = {uniform = ["2024-02-01", '
                    '"2024-05-01"]}, value = 1.0}]\n')
    outs = []
    for k in range(2):
        draws = simulate_scenarios(model, fake_posterior(model), load_scenarios([base]), seed=9)
        folder = tmp_path / f"out{k}"
        folder.mkdir()
        summaries.write_tables(draws, folder)
        outs.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    assert outs[0] == outs[1] and len(outs[0]) == 5


def test_shock_the_model_lacks_is_an_error_naming_the_shock(model, write):
    path = scenario(write, "bad", '[[shocks]]\nparameter = "branching_ratio"\ndate = "2024-02"\nfactor = 2\n')
    with pytest.raises(InputError, match="has no shock 'branching_ratio'"):
        simulate_scenarios(model, fake_posterior(model), load_scenarios([path]), seed=1)


def test_unknown_fitted_group_is_an_error(model, write):
    path = scenario(write, "bad", '[[events]]\nkind = "decapitation"\ndate = "2024-02"\n'
                    'effect = "leadr_2022"\n')
    with pytest.raises(InputError, match="did you mean 'leader_2022'"):
        simulate_scenarios(model, fake_posterior(model), load_scenarios([path]), seed=1)


def test_bundled_scenarios_validate(capsys):
    import glob

    assert main(["validate", *sorted(glob.glob("scenarios/*.toml"))]) == 0
    assert capsys.readouterr().out.count(": OK") == 7


BAD_SCENARIOS = {
    "bad toml": 'name = "x"\n[horizon\n',
    "unknown key": 'name = "x"\n[horizon]\nmonths = 3\nmonthz = 4\n',
    "unknown top key": 'name = "x"\nbaselin = "y"\n[horizon]\nmonths = 3\n',
    "wrong type": 'name = "x"\n[horizon]\nmonths = "three"\n',
    "dates out of order": 'name = "x"\n[horizon]\nmonths = 3\n[presence]\npoints = [{date = "2026-05", '
                          'value = 1.0}, {date = "2026-02", value = 0.0}]\n',
    "negative presence": 'name = "x"\n[horizon]\nmonths = 3\n[presence]\npoints = [{date = "2026-05", '
                         'value = -1.0}]\n',
    "horizon of 0": 'name = "x"\n[horizon]\nmonths = 0\n',
    "missing horizon": 'name = "x"\n',
    "bad date": 'name = "x"\n[horizon]\nmonths = 3\nstart = "2026-13"\n',
    "unknown event kind": 'name = "x"\n[horizon]\nmonths = 3\n[[events]]\nkind = "coup"\ndate = "2026-02"\n',
    "bad distribution": 'name = "x"\n[horizon]\nmonths = 3\n[presence]\npoints = [{date = "2026-05", '
                        'value = {gauss = [1, 2]}}]\n',
    "normal presence": 'name = "x"\n[horizon]\nmonths = 3\n[presence]\npoints = [{date = "2026-05", '
                       'value = {normal = [1, 2]}}]\n',
    "inside the data": 'name = "x"\n[horizon]\nmonths = 3\nstart = "2020-01"\n',
    "unknown covariate": 'name = "x"\n[horizon]\nmonths = 3\n[covariates.oil]\npoints = [{date = "2026-05", '
                         'value = 1.0}]\n',
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_malformed_scenarios_exit_2_naming_the_file(case, write, capsys):
    path = write("scen.toml", BAD_SCENARIOS[case])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "scen.toml" in err and "Traceback" not in err


SCALARS = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=20), st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(months=SCALARS, value=SCALARS, date=SCALARS, key=st.text(min_size=1, max_size=12))
def test_fuzzed_scenarios_never_crash(months, value, date, key, tmp_path):
    import tomli_w

    doc = {"name": "fuzz", "horizon": {"months": months},
           "presence": {"points": [{"date": date, "value": value}]}, key: value}
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return
    try:
        parse_scenario(text, "fuzz.toml")
    except InputError as exc:
        assert "fuzz.toml" in str(exc)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_rejected_cleanly(text):
    try:
        parse_scenario(text, "any.toml")
    except InputError as exc:
        assert "any.toml" in str(exc)


def test_event_kind_absent_from_the_data_is_refused_before_simulating(model, write):
    path = scenario(write, "war", '[[events]]\nkind = "regional_war"\ndate = "2024-02"\n'
                    'effect = {pulse = 1.0}\n')
    with pytest.raises(InputError, match="no regional_war events"):
        LatentARSimulator(model, None).check(load_scenarios([path])[0])
