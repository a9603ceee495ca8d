"""The regional latent AR family: graph and simulator agree, closed regions have no attacks,
scenarios act per region, and a fit of simulated two-region data recovers the truth (slow)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest

from forecast.core.priors import resolve_priors
from forecast.data.loaders import load_counts
from forecast.data.simulate_regions import RegionTruth, opposite_presence, simulate_regions
from forecast.errors import InputError
from forecast.families import make_family
from forecast.families.regional_ar.graph import RegionalARModel, regional_parameter_families
from forecast.scenarios import summaries
from forecast.scenarios.spec import load_scenarios, parse_scenario
from forecast.simulation import check_scenarios, simulate_scenarios
from tests.conftest import counts_csv, fake_posterior
from tests.families.test_parity import parity_dataset

EVENTS = ("date,kind,name,end_date\n"
          "2020-06-17,decapitation,first,\n"
          "2021-02-10,us_strike,us_strike,\n"
          "2021-09-12,regional_war,war,2021-10-20\n")
TRUTH = RegionTruth(offsets={"iraq": 0.5, "syria": -0.5})


def regional_dataset(write, months: int = 36, zero_months: int = 6):
    """Two regions (iraq, syria) in the long layout; Iraq's troops fall to 0 for the last
    `zero_months` while Syria's rise; events of three kinds, two of them mid-month."""
    sim = simulate_regions(months=months, truth=TRUTH, seed=4,
                           presence=opposite_presence(months, zero_months=zero_months))
    return load_counts(sim.write_csv(write("regions.csv", "")), events=write("events.csv", EVENTS))


def prior_draws(model: pm.Model, n: int = 30, seed: int = 11) -> az.InferenceData:
    with model:
        return pm.sample_prior_predictive(draws=n, random_seed=seed)


def test_graph_and_simulator_agree_on_each_regions_log_background(write):
    family = make_family("regional_ar", regional_dataset(write))
    model = family.build()
    with model:
        pm.Deterministic("parity_log_background", family.log_background)
    prior = prior_draws(model)
    with model:
        graph = pm.sample_posterior_predictive(az.InferenceData(posterior=prior.prior),
                                               var_names=["parity_log_background"], random_seed=1,
                                               progressbar=False)
    from_graph = graph.posterior_predictive["parity_log_background"].stack(s=("chain", "draw"))
    from_graph = from_graph.transpose("s", ...).values
    from_numpy = family.history_log_background(prior.prior)
    assert from_numpy.shape == from_graph.shape == (30, 36, 2)
    np.testing.assert_allclose(from_numpy, from_graph, rtol=0, atol=1e-10)
    # not vacuous: the regions differ (levels, presence moving apart) and move over time
    assert np.abs(from_numpy[:, :, 0] - from_numpy[:, :, 1]).max() > 0.1
    assert np.ptp(from_numpy, axis=1).min() > 0.01


def test_a_region_without_troops_has_rate_zero_and_finite_gradients(write):
    data = regional_dataset(write)
    family = make_family("regional_ar", data)
    model = family.build()
    prior = prior_draws(model).prior
    closed = data.presence_by_region[:, 0] == 0
    assert closed.sum() == 6
    by_region = prior["rate_by_region"].sel(region="iraq").values
    assert (by_region[..., closed] == 0).all() and (by_region[..., ~closed] > 0).all()
    # `rate` is the total of the regions the reference counts (here both)
    np.testing.assert_allclose(prior["rate"].values, prior["rate_by_region"].sum("region").values)
    grad = model.compile_dlogp()(model.initial_point())
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0
    # the numpy likelihood equals the graph's on the same draws (closed cells included)
    idata = az.InferenceData(posterior=prior)
    with model:
        pm.compute_log_likelihood(idata, extend_inferencedata=True, progressbar=False)
    np.testing.assert_allclose(family.pointwise_log_likelihood(prior).values,
                               idata.log_likelihood["obs"].values, rtol=1e-9, atol=1e-9)


def test_observations_sum_the_regions_they_cover(write):
    data = regional_dataset(write)
    family = make_family("regional_ar", data)
    rows = data.observations.iloc[:2].copy()
    rows["region"] = ["iraq+syria", "syria"]
    rows["end"] = rows["start"] + pd.Timedelta(days=30)
    weights = family.observation_weights(rows).reshape(2, 2, -1)     # rows, regions, segments
    assert weights[0, 0].sum() > 0 and np.allclose(weights[0, 0], weights[0, 1])
    assert weights[1, 0].sum() == 0 and weights[1, 1].sum() > 0


def test_without_regions_the_family_forecasts_what_latent_ar_forecasts(write):
    data = parity_dataset(write)
    regional, latent = make_family("regional_ar", data), make_family("latent_ar", data)
    posterior = fake_posterior(latent, n_draws=200)
    posterior["beta"] = (("chain", "draw", "covariate"), np.full((1, 200, 1), 0.1))
    text = ('name = "s"\n[horizon]\nmonths = 6\n[presence]\npoints = [{date = "2024-03", value = 1.0}]\n'
            '[[events]]\nkind = "us_strike"\ndate = "2024-02-11"\n')
    scenario = parse_scenario(text, "s.toml")
    a = regional.simulator(posterior).simulate(scenario, seed=2)
    b = latent.simulator(posterior).simulate(scenario, seed=2)
    np.testing.assert_allclose(a["rate"], b["rate"], rtol=1e-12)
    np.testing.assert_array_equal(a["count"], b["count"])
    assert a["rate_by_region"].shape == (200, 6, 1)


def scenario_files(write, *bodies: tuple[str, str]) -> list:
    head = '[horizon]\nstart = "2023-01"\nmonths = 12\n'
    paths = []
    for name, body in bodies:
        baseline = "" if name == "base" else 'baseline = "base"\n'
        paths.append(write(f"{name}.toml", f'name = "{name}"\n{baseline}{head}{body}'))
    return load_scenarios(paths)


def exit_iraq_case(write, exit_date: str = '{uniform = ["2023-03-01", "2023-05-31"]}'):
    """Two regions, a baseline, and Iraq's troops down to 0 by `exit_date`."""
    data = regional_dataset(write, zero_months=0)
    family = make_family("regional_ar", data)
    scenarios = scenario_files(
        write, ("base", ""),
        ("exit_iraq", f'[presence.iraq]\npoints = [{{date = "2023-01", value = 0.5}}, '
                      f'{{date = {exit_date}, value = 0.0}}]\n'))
    return data, family, scenarios


def test_exit_from_iraq_gives_contrasts_per_region(write, tmp_path):
    data, family, scenarios = exit_iraq_case(write)
    draws = simulate_scenarios(family, fake_posterior(family, n_draws=400), scenarios, seed=3)
    assert list(draws["region"].values) == ["iraq", "syria"] and draws.attrs["total_regions"] == "iraq+syria"
    iraq = draws["count_by_region"].sel(scenario="exit_iraq", region="iraq").values
    assert (iraq[:, 5:] == 0).all() and iraq[:, :2].sum() > 0           # no troops from June, no attacks
    np.testing.assert_array_equal(draws["count"].values, draws["count_by_region"].sum("region").values)
    table = summaries.contrasts(draws, regions=True).set_index("region")
    assert list(table.index) == ["total", "iraq", "syria"]
    assert table.loc["iraq", "diff_q90"] < 0 and table.loc["iraq", "p_fewer_than_baseline"] > 0.95
    # Syria's presence and draws are the baseline's: exactly no difference (paired draws)
    assert table.loc["syria", "p_same_as_baseline"] == 1.0 and table.loc["syria", "diff_q97_5"] == 0.0
    assert table.loc["total", "diff_median"] == table.loc["iraq", "diff_median"]
    # the published tables: a region column, every quantile with its Monte Carlo error, no means
    summaries.write_tables(draws, tmp_path)
    totals = pd.read_csv(tmp_path / "totals.csv")
    assert list(totals.columns[:3]) == ["scenario", "region", "months"]
    assert not any("mean" in c for c in totals.columns)
    assert all(f"{c}_mcse" in totals.columns for c in summaries.QUANTILES)
    plain = summaries.total_summary(draws)
    assert "region" not in plain.columns
    pd.testing.assert_frame_equal(totals[totals["region"] == "total"].drop(columns="region")
                                  .reset_index(drop=True), plain, check_dtype=False)
    # every other table too: rows for the total (the same as without regions) and each region
    for name, of_total in (("summary.csv", summaries.monthly_summary(draws)),
                           ("exceedance.csv", summaries.exceedance(draws)),
                           ("first_attack.csv", summaries.first_attack(draws))):
        table = pd.read_csv(tmp_path / name)
        assert list(table.columns[:2]) == ["scenario", "region"], name
        assert set(table["region"]) == {"total", "iraq", "syria"}, name
        pd.testing.assert_frame_equal(table[table["region"] == "total"].drop(columns="region")
                                      .reset_index(drop=True), of_total, check_dtype=False)
    monthly = pd.read_csv(tmp_path / "summary.csv").set_index(["scenario", "region", "month"])
    assert monthly.loc[("exit_iraq", "iraq", "2023-06"), "q97_5"] == 0      # no troops, no attacks
    assert monthly.loc[("exit_iraq", "iraq", "2023-06"), "presence_median"] == 0
    assert monthly.loc[("exit_iraq", "syria", "2023-06"), "median"] > 0


def test_the_report_has_a_section_per_region_with_its_contrasts_and_charts(write, tmp_path):
    from forecast.reporting.scenario_report import write_report
    from tests.test_report import manifest

    data, family, scenarios = exit_iraq_case(write, exit_date='"2023-03-01"')
    posterior = fake_posterior(family, n_draws=100)
    rng = np.random.default_rng(0)
    rate = rng.lognormal(1.0, 0.2, (1, 100, len(data.regions), data.axis.n))
    posterior = posterior.assign(
        rate_by_region=(("chain", "draw", "region", "bin"), rate),
        rate=(("chain", "draw", "bin"), rate.sum(axis=2))).assign_coords(
        region=list(data.regions), bin=list(data.axis.starts))
    idata = az.InferenceData(posterior=posterior)
    draws = simulate_scenarios(family, posterior, scenarios, seed=3)
    summaries.write_tables(draws, tmp_path)
    write_report(tmp_path, idata, draws, manifest("passed", scenarios), data, family)
    page = (tmp_path / "report.html").read_text()
    section = page[page.index("<h2>By region</h2>"):]
    assert "The total above is iraq + syria" in section
    # the contrasts per region: Iraq's exit shows in Iraq's column, not in Syria's
    contrasts = summaries.contrasts(draws, regions=True).set_index("region")
    iraq = f"{contrasts.loc['iraq', 'diff_median']:+,.0f} ({contrasts.loc['iraq', 'diff_q10']:+,.0f}"
    assert iraq in section and "+0 (+0 to +0); P(fewer) 0.00" in section
    assert {"overlay_iraq.png", "overlay_syria.png"} <= {p.name for p in (tmp_path / "figures").iterdir()}
    assert 'id="chart-overlay-iraq"' in section
    # the page's main tables stay the total's: one row per scenario
    memo = (tmp_path / "summary.md").read_text()
    rows = [line for line in memo.splitlines() if line.startswith("| exit_iraq vs base |")]
    assert len(rows) == 3 and rows[1].startswith("| exit_iraq vs base | iraq |")
    assert rows[0].split("|")[2].strip().lstrip("-").isdigit()         # the total's row: no region


def test_events_and_shocks_act_only_in_the_regions_they_name(write):
    data = regional_dataset(write, zero_months=0)
    family = make_family("regional_ar", data)
    scenarios = scenario_files(
        write, ("base", ""),
        ("strike", '[[events]]\nkind = "us_strike"\ndate = "2023-02-10"\neffect = "us_strike"\n'
                   'regions = ["syria"]\n'),
        ("shock", '[[shocks]]\nparameter = "rate_multiplier"\ndate = "2023-04"\nfactor = 2.0\n'
                  'regions = ["iraq"]\n'))
    draws = simulate_scenarios(family, fake_posterior(family, n_draws=100), scenarios, seed=1)
    rate = draws["rate_by_region"]
    ratio = (rate.sel(scenario="strike") / rate.sel(scenario="base"))
    np.testing.assert_allclose(ratio.sel(region="iraq").values, 1.0, rtol=1e-12)
    assert np.abs(ratio.sel(region="syria").values[:, 1:] - 1.0).max() > 0.01
    shock = (rate.sel(scenario="shock") / rate.sel(scenario="base"))
    np.testing.assert_allclose(shock.sel(region="iraq").values[:, 3:], 2.0, rtol=1e-12)
    np.testing.assert_allclose(shock.sel(region="syria").values, 1.0, rtol=1e-12)


@pytest.mark.parametrize(("body", "key", "message"), [
    ('[presence]\npoints = [{date = "2023-03", value = 1.0}]\n', "presence", r"\[presence.<region>\]"),
    ('[[shocks]]\nparameter = "volatility_multiplier"\ndate = "2023-02"\nfactor = 2.0\nregions = ["iraq"]\n',
     "shocks[0].regions", "share one latent process"),
    ('[presence.irak]\npoints = [{date = "2023-03", value = 1.0}]\n', "presence.irak", "did you mean 'iraq'"),
    ('[presence.iraq]\npoints = [{date = "2022-06", value = 1.0}]\n', "presence.iraq.points[0].date",
     "before the forecast starts"),
])
def test_regional_scenarios_are_checked_against_the_regional_model(write, body, key, message):
    family = make_family("regional_ar", regional_dataset(write))
    scenario = parse_scenario('name = "s"\n[horizon]\nstart = "2023-01"\nmonths = 6\n' + body, "s.toml")
    with pytest.raises(InputError, match=message) as info:
        family.simulator(None).check(scenario)
    assert info.value.where == f"key '{key}'"


def test_a_model_of_the_total_sees_a_regional_path_as_the_change_of_its_total(write):
    data = regional_dataset(write, zero_months=0)
    family = make_family("latent_ar", data)
    last = data.presence_by_region[-1]
    text = ('name = "s"\n[horizon]\nstart = "2023-01"\nmonths = 6\n'
            '[presence.iraq]\npoints = [{date = "2023-01", value = 0.0}]\n')
    other = text.replace('"s"', '"t"').replace("iraq", "syria")
    draws = simulate_scenarios(family, fake_posterior(family, n_draws=50),
                               [parse_scenario(text, "s.toml"), parse_scenario(other, "t.toml")], seed=1)
    # both regions are in the total, so leaving one takes its troops off the total
    np.testing.assert_allclose(draws["presence"].sel(scenario="s").values, data.presence[-1] - last[0])
    np.testing.assert_allclose(draws["presence"].sel(scenario="t").values, data.presence[-1] - last[1])


def test_a_model_of_the_total_refuses_an_event_scoped_to_regions_naming_the_regional_model(write):
    family = make_family("latent_ar", regional_dataset(write))
    scenario = parse_scenario('name = "s"\n[horizon]\nstart = "2023-01"\nmonths = 6\n'
                              '[[events]]\nkind = "us_strike"\ndate = "2023-02-01"\nregions = ["iraq"]\n'
                              'effect = "us_strike"\n', "s.toml")
    with pytest.raises(InputError, match="forecasts the total of the regions.*belongs to model.s. "
                                         "regional_ar") as info:
        check_scenarios(family, [scenario])
    assert info.value.where == "key 'events[0].regions'"


def test_a_row_outside_the_total_is_left_out_of_a_model_of_the_total(write):
    data = regional_dataset(write, zero_months=0)
    extra = data.observations.iloc[[0]].assign(id="outside", region="jordan")
    obs = pd.concat([data.observations, extra], ignore_index=True)
    from dataclasses import replace
    with_jordan = replace(data, regions=[*data.regions, "jordan"], observations=obs,
                          presence_by_region=np.column_stack([data.presence_by_region,
                                                              np.ones(data.axis.n)]))
    # Jordan's one row covers a month; Iraq and Syria are counted for 36 months each
    assert with_jordan.reference_regions().tolist() == [1.0, 1.0, 0.0]
    assert make_family("latent_ar", with_jordan).rows_outside_total == ["outside"]
    assert make_family("regional_ar", with_jordan).rows_outside_total == []


def test_the_parts_of_a_breakdown_are_left_out_of_a_model_of_the_total(write):
    data = regional_dataset(write, zero_months=0)
    first = data.observations.iloc[[0]]
    parts = pd.concat([first.assign(id="part_iraq", region="iraq", definition="by_country"),
                       first.assign(id="part_syria", region="syria", definition="by_country")])
    from dataclasses import replace
    split = replace(data, observations=pd.concat([data.observations, parts], ignore_index=True))
    # to a model of the total the two parts would count one span twice; a regional model sums
    # each part over its own region
    assert make_family("latent_ar", split).rows_outside_total == ["part_iraq", "part_syria"]
    assert "part_iraq" in make_family("regional_ar", split).dataset.fitted["id"].tolist()


def test_regional_priors_extend_the_latent_ar_defaults(write):
    family = make_family("regional_ar", load_counts(write("c.csv", counts_csv())))
    assert family.priors.get("region_sd").describe() == "HalfNormal(sigma=0.5)"
    assert family.priors.get("elasticity").describe() == "Normal(mu=0.5, sigma=0.5)"
    user = write("p.toml", '[region_sd]\ndist = "HalfNormal"\nsigma = 0.2\n')
    files = RegionalARModel.default_priors_files()
    priors = resolve_priors(regional_parameter_families(), files, user)
    assert priors.get("region_sd").describe() == "HalfNormal(sigma=0.2)"
    assert len(priors.sources) == 3


# ------------------------------------------------------------------ recovery (slow)


@pytest.mark.slow
def test_two_region_fit_recovers_the_shared_elasticity_and_the_regional_levels(tmp_path):
    """Presence moving in opposite directions separates g from the shared latent series."""
    truth = RegionTruth()
    sim = simulate_regions(months=72, truth=truth, seed=7)
    data = load_counts(sim.write_csv(tmp_path / "two.csv"))
    assert data.regions == ["north", "south"]
    family = make_family("regional_ar", data)
    family.build()
    idata = family.fit(draws=500, tune=700, chains=2, seed=3, progress=False, predictive=False,
                       target_accept=0.95)
    post = idata.posterior

    def covers(values: np.ndarray, true: float) -> bool:
        lo, hi = np.quantile(values.ravel(), [0.05, 0.95])
        print(f"90% interval {lo:.3f} to {hi:.3f}, truth {true}")
        return bool(lo <= true <= hi)

    assert covers(post["elasticity"].values, truth.elasticity)
    for j, region in enumerate(data.regions):
        level = (post["intercept"] + post["region_offset"].isel(region=j)).values
        assert covers(level, truth.level + truth.offsets[region]), region
    assert int(idata.sample_stats["diverging"].sum()) == 0
