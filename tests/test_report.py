"""The HTML report: warnings for unconverged fits, single-scenario runs, no external URLs."""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pytest
import xarray as xr

from forecast.data.loaders import load_counts
from forecast.families.latent_ar.graph import LatentARModel
from forecast.reporting.scenario_report import write_report
from forecast.scenarios.spec import load_scenarios
from forecast.simulation import simulate_scenarios
from tests.conftest import counts_csv, fake_posterior


@pytest.fixture
def setup(write):
    model = LatentARModel(load_counts(write("counts.csv", counts_csv())))
    posterior = fake_posterior(model, n_draws=200)
    rng = np.random.default_rng(0)
    prior = xr.Dataset({name: (("chain", "draw"), rng.normal(size=(1, 200)))
                        for name in ("elasticity", "rho", "sigma", "intercept")})
    n_obs = len(model.dataset.fitted)
    rate = xr.DataArray(np.exp(rng.normal(1, 0.2, (1, 200, model.dataset.axis.n))),
                        dims=("chain", "draw", "bin"), coords={"bin": model.dataset.axis.labels})
    posterior = posterior.assign(rate=rate)
    idata = az.InferenceData(posterior=posterior, prior=prior)
    base = write("base.toml", 'name = "base"\n[horizon]\nmonths = 6\n')
    cut = write("cut.toml", 'name = "cut"\nbaseline = "base"\n[horizon]\nmonths = 6\n'
                '[presence]\npoints = [{date = "2024-03", value = 1.0}]\n')
    return model, idata, base, cut, n_obs


def manifest(verdict: str, scenarios) -> dict:
    failures = [] if verdict == "passed" else ["bulk ESS 12 < 400 (at sigma)"]
    return {"verdict": verdict, "model": "latent_ar", "scenario_seed": 1, "fit_key": "k",
            "diagnostics": {"failures": failures, "max_rhat": 1.2, "min_ess_bulk": 12.0,
                            "min_ess_tail": 20.0, "divergences": 0, "min_bfmi": 0.9},
            "data": {"observations": {"fitted_by_bound": {"exact": 24}}},
            "scenarios": [{"name": s.name, "baseline": s.baseline} for s in scenarios]}


def test_unconverged_fit_carries_the_warning(setup, tmp_path):
    model, idata, base, cut, _ = setup
    scenarios = load_scenarios([base, cut])
    draws = simulate_scenarios(model, idata.posterior, scenarios, seed=1)
    write_report(tmp_path, idata, draws, manifest("allowed_unconverged", scenarios), model.dataset, model)
    page = (tmp_path / "report.html").read_text()
    assert 'class="bad"' in page and "FAILED its diagnostics gate" in page
    assert "bulk ESS 12 &lt; 400" in page
    assert "WARNING" in (tmp_path / "summary.md").read_text()
    # self-contained: no external source or link in the page (the embedded Plotly library's own
    # code mentions map-tile sites it never loads here; the browser test checks no request is made)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"(src|href)=[\"']https?://", markup)
    assert "<script src" not in page
    assert {p.name for p in (tmp_path / "figures").iterdir()} >= {"contrasts.png", "fan_base.png"}


def test_single_scenario_without_contrast_renders(setup, tmp_path):
    model, idata, base, _, _ = setup
    scenarios = load_scenarios([base])
    draws = simulate_scenarios(model, idata.posterior, scenarios, seed=1)
    write_report(tmp_path, idata, draws, manifest("passed", scenarios), model.dataset, model)
    page = (tmp_path / "report.html").read_text()
    assert "No scenario of this run has a baseline" in page
    assert 'class="bad"' not in page and "Fit diagnostics passed" in page
    assert page.count("<img") >= 1                           # prior against posterior
    assert page.count('class="plotly-graph-div"') == 2       # the overlay and the fan chart


def test_report_opens_with_a_bottom_line_and_the_scenarios(setup, tmp_path):
    model, idata, base, cut, _ = setup
    scenarios = load_scenarios([base, cut])
    draws = simulate_scenarios(model, idata.posterior, scenarios, seed=1)
    write_report(tmp_path, idata, draws, manifest("passed", scenarios), model.dataset, model)
    page = (tmp_path / "report.html").read_text()
    bottom = page[page.index("<h2>Bottom line</h2>"):page.index("<h2>The scenarios</h2>")]
    assert page.index("<h2>Bottom line</h2>") < page.index("<h2>Horizon totals</h2>")
    assert re.search(r"<b>cut</b>: [\d,]+ (fewer|more) attacks? from \d{4}-\d\d to \d{4}-\d\d than base "
                     r"\(80%: .*\), probability of fewer [01]\.\d\d\.", bottom) or \
        "<b>cut</b>: about as many attacks" in bottom
    assert re.search(r"<b>base</b>: [\d,]+ attacks? from .* \(median; 80%: [\d,]+ to [\d,]+\)", bottom)
    assert "mean" not in bottom.split("</ul>")[0]
    assert "no description in the scenario file" in page          # the fixtures have none
    for name in ("totals.csv", "contrasts.csv", "exceedance.csv", "first_attack.csv"):
        assert f'download="{name}" href="data:text/csv;base64,' in page
    assert "figures/overlay.png" in (tmp_path / "summary.md").read_text()
    figures = {p.name for p in (tmp_path / "figures").iterdir()}
    assert {"overlay.png", "fan_base.png", "fan_cut.png"} <= figures


def test_bottom_line_names_the_prior_when_it_dominates():
    import pandas as pd

    from forecast.reporting.bottom_line import sentences

    totals = pd.DataFrame({"scenario": ["status_quo", "exit"], "median": [120.0, 80.0], "q10": [40.0, 20.0],
                           "q90": [400.0, 300.0]})
    row = {"scenario": "exit", "baseline": "status_quo", "diff_median": -31.2, "diff_q10": -120.4,
           "diff_q90": -5.0, "p_fewer_than_baseline": 0.912}
    months = [f"2027-{m:02d}" for m in range(1, 13)]
    plain = sentences(totals, pd.DataFrame([row]), months)
    assert plain[1] == ("<b>exit</b>: 31 fewer attacks over 2027 than status_quo (80%: 5 to 120 fewer), "
                        "probability of fewer 0.91.")
    assert plain[0] == "<b>status_quo</b>: 120 attacks over 2027 (median; 80%: 40 to 400)."
    leaning = {**row, "prior_overlap": 0.7, "prior_parameter": "elasticity"}
    with_prior = sentences(totals, pd.DataFrame([leaning]), months)
    assert with_prior[1].endswith("; most of this comes from the prior on the footprint effect (how attacks "
                                  "scale with troop numbers).")
    unnamed = sentences(totals, pd.DataFrame([{**row, "prior_overlap": 0.7}]), months)
    assert unnamed[1].endswith("; most of this comes from the prior, not the data.")
    small = sentences(totals, pd.DataFrame([{**row, "prior_overlap": 0.3}]), months)
    assert small == plain
    both_ways = sentences(totals, pd.DataFrame([{**row, "diff_q10": -40.0, "diff_q90": 12.0}]), months)
    assert "(80%: 40 fewer to 12 more)" in both_ways[1]


def test_the_latest_backtest_is_linked_relatively(tmp_path):
    from forecast.reporting.scenario_report import latest_backtest

    for name in ("2026-01-01-backtest", "2026-11-24-bundled-backtest", "2026-12-01-scenarios"):
        (tmp_path / "reports" / name).mkdir(parents=True)
        (tmp_path / "reports" / name / "backtest.html").write_text("x")
    found = latest_backtest([tmp_path / "reports", tmp_path / "nowhere"])
    assert found == tmp_path / "reports" / "2026-11-24-bundled-backtest" / "backtest.html"
    assert latest_backtest([tmp_path / "nowhere"]) is None




BUNDLED_SENTENCES = ("Pentagon", "thousands of troops", "convoys excluded", "Iraq and Syria")


def test_report_on_user_data_says_only_what_follows_from_that_data(setup, tmp_path):
    from forecast.checks import checks_table

    model, idata, base, cut, n_obs = setup
    scenarios = load_scenarios([base, cut])
    draws = simulate_scenarios(model, idata.posterior, scenarios, seed=1)
    checks = checks_table(model, idata.posterior)
    write_report(tmp_path, idata, draws, manifest("passed", scenarios), model.dataset, model, checks)
    page = (tmp_path / "report.html").read_text()
    summary = (tmp_path / "summary.md").read_text()
    for sentence in BUNDLED_SENTENCES:
        assert sentence not in page and sentence not in summary, sentence
    # the counts are described by the data's own reference definition (here undescribed)
    assert "reference counting definition, counts (the data do not describe it)" in page
    # posterior sd 0.1 against a prior sd of 1: the data, not the prior, decide the elasticity
    assert "most of what we know about it comes from the prior" not in page
    assert "learned mainly from the data" in page
    # one predictive-check count, from checks.csv, saying what it covers
    assert page.count("outside the central 95%") == 1
    assert f"{n_obs} predicted rows, {n_obs} fitted (in the likelihood) and 0 check rows" in page


def test_bundled_reference_definition_is_described_in_its_own_words():
    from forecast.data.loaders import load_bundled
    from forecast.reporting.scenario_report import _counts_note

    data = load_bundled()
    note = _counts_note(data)
    assert data.reference in note and data.definition_notes[data.reference].rstrip(".") in note
    assert "enter through reporting ratios" in note


@pytest.mark.parametrize(("posterior_sd", "verdict"), [
    (0.95, "most of what we know about it comes from the prior"),
    (0.5, "the data and the prior both shape it"),
    (0.1, "it is learned mainly from the data"),
])
def test_prior_dependence_sentence_follows_the_width_ratio(posterior_sd, verdict):
    from forecast.reporting.scenario_report import _prior_dependence

    rng = np.random.default_rng(1)
    prior = rng.normal(0.0, 1.0, 20_000)
    posterior = rng.normal(0.5, posterior_sd, 20_000)
    text = _prior_dependence(posterior, prior)
    assert verdict in text
    assert f"{np.std(posterior) / np.std(prior):.0%} as wide as the prior" in text
