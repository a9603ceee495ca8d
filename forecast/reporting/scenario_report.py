"""A self-contained HTML report of a run (figures embedded as PNG; no external URLs)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from forecast.checks import worst_checks
from forecast.core.scaling import coefficient_summary
from forecast.data.dataset import Dataset
from forecast.families import Family
from forecast.reporting import plots
from forecast.reporting.html import Figures, page
from forecast.reporting.html import table as _table
from forecast.scenarios import summaries


def _verdict_banner(manifest: dict[str, Any]) -> str:
    verdict = manifest.get("verdict", "unknown")
    diag = manifest["diagnostics"]
    if verdict == "passed":
        return (f'<p class="ok">Fit diagnostics passed: max r-hat {diag["max_rhat"]:.3f}, min bulk ESS '
                f'{diag["min_ess_bulk"]:.0f}, min tail ESS {diag["min_ess_tail"]:.0f}, '
                f'{diag["divergences"]} divergences, min E-BFMI {diag["min_bfmi"]:.2f}.</p>')
    return ('<p class="bad">WARNING: this fit FAILED its diagnostics gate and was used only because '
            f'--allow-unconverged was given: {html.escape("; ".join(diag["failures"]))}. '
            'Do not cite these numbers.</p>')


def _counts_note(dataset: Dataset) -> str:
    """What the counts are: the reference counting definition, in the data's own words."""
    note = dataset.definition_notes.get(dataset.reference, "").strip()
    text = f"Counts are in the data's reference counting definition, {dataset.reference}"
    text += f": {note.rstrip('.')}." if note else " (the data do not describe it)."
    others = dataset.definitions[1:]
    if others:
        text += f" Other counting definitions ({', '.join(others)}) enter through reporting ratios."
    return text


# posterior contraction 1 - var(posterior) / var(prior): below the first bound the prior
# dominates, above the second the data do
CONTRACTION_BOUNDS = (0.5, 0.9)


def _prior_dependence(posterior: np.ndarray, prior: np.ndarray) -> str:
    """How much of a parameter the data taught, from the posterior/prior width ratio."""
    ratio = float(np.std(posterior) / np.std(prior))
    contraction = 1.0 - ratio**2
    if contraction < CONTRACTION_BOUNDS[0]:
        verdict = "most of what we know about it comes from the prior, not from the data"
    elif contraction < CONTRACTION_BOUNDS[1]:
        verdict = "the data and the prior both shape it"
    else:
        verdict = "it is learned mainly from the data"
    return (f" The posterior is {ratio:.0%} as wide as the prior (the data remove "
            f"{max(contraction, 0.0):.0%} of the prior's variance): {verdict}.")


def _plain_words(idata: az.InferenceData, family: Family, dataset: Dataset) -> str:
    """What the key numbers mean and how much of each comes from the prior."""
    post = idata.posterior
    items = [f"<li>{html.escape(_counts_note(dataset))}</li>",
             "<li>Forecast intervals include the uncertainty of every parameter and of the month-to-month "
             "activity level; they assume the future behaves like the fitted history plus what each "
             "scenario states.</li>"]
    if "elasticity" in post:
        g = post["elasticity"].values.ravel()
        line = (f"<li>Force footprint: 1% more US troops means about {g.mean():.2f}% more attacks "
                f"(90% interval {_q(g, 0.05):.2f} to {_q(g, 0.95):.2f}; P(more troops, more attacks) "
                f"= {(g > 0).mean():.2f}).")
        if "prior" in idata.groups() and "elasticity" in idata.prior:
            line += _prior_dependence(g, idata.prior["elasticity"].values.ravel())
            line += " Scenarios that change presence lean on this effect."
        items.append(line + "</li>")
    if "decapitation_level" in post:
        for group in post["decapitation_group"].values:
            level = post["decapitation_level"].sel(decapitation_group=group).values.ravel()
            factor = float(np.exp(np.median(level)))
            line = (f"<li>Killing ({html.escape(str(group))}): lasting change in attacks x"
                    f"{factor:.2f} (median; P(rise) = {(level > 0).mean():.2f})")
            if "decapitation_volatility" in post:
                vol = post["decapitation_volatility"].sel(decapitation_group=group).values.ravel()
                line += f"; P(more erratic activity afterwards) = {(vol > 0).mean():.2f}"
            items.append(line + ".</li>")
    items += family.describe(idata)
    return "<h2>What the numbers mean and assume</h2><ul>" + "".join(items) + "</ul>"


def _ensemble_section(manifest: dict[str, Any]) -> str:
    """The stacking weights of an ensemble run (empty for a single model)."""
    ensemble = manifest.get("ensemble")
    if not ensemble:
        return f"<p>Model: {html.escape(str(manifest.get('model', 'unknown')))}.</p>"
    table = pd.DataFrame(ensemble["loo"])
    notes = "".join(f"<li>{html.escape(m)}: {len(ids)} observation(s) with Pareto k &gt; 0.7 "
                    f"({html.escape(', '.join(ids))}): its LOO estimate is unreliable there.</li>"
                    for m, ids in ensemble.get("pareto_k_above_0.7", {}).items() if ids)
    return ("<h2>Models and their weights</h2><p>The forecasts mix several model families, each "
            "draw taken from one model in proportion to its stacking weight (the weights that "
            "maximise the leave-one-out predictive density of the mix). The parameter sections "
            f"below describe the model with the largest weight, {html.escape(ensemble['lead_model'])}."
            "</p>" + _table(table, 3) + (f"<ul>{notes}</ul>" if notes else ""))


def _first_attack_table(first: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: P(first attack within 1, 3, 6 months) and P(none in the horizon)."""
    rows = []
    for scenario, group in first.groupby("scenario", sort=False):
        months = group[group["months_until_first_attack"] != "none in horizon"]
        steps = months["months_until_first_attack"].astype(int)
        row = {"scenario": scenario}
        for k in (1, 3, 6):
            row[f"P(first attack within {k} months)"] = float(months["probability"][steps <= k].sum())
        row["P(none in horizon)"] = float(group["probability"][group["months_until_first_attack"]
                                                                == "none in horizon"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _capped_note(draws: xr.Dataset) -> str:
    if "capped_share" not in draws or float(draws["capped_share"].max()) == 0:
        return ""
    worst = draws["capped_share"].to_series()
    return (f"<p>In {worst.max():.3%} of draw-months at most ({html.escape(str(worst.idxmax()))}) the "
            "simulated rate reached the cap of 100,000 attacks a month, a mark of the lognormal model's "
            "heavy upper tail; means are sensitive to these draws, medians are not.</p>")


def _unobserved_bins(dataset: Dataset) -> int:
    """Bins of the data that no fitted observation covers (stated, not assumed per dataset)."""
    return int((dataset.weights().sum(axis=0) == 0).sum())


def _presence_range(dataset: Dataset) -> str:
    """The presence the history spans: an elasticity is only learned inside it."""
    if dataset.presence is None:
        return ""
    presence = np.asarray(dataset.presence, dtype=float)
    return (" The force-footprint elasticity is learned only from how attacks moved with presence, "
            f"which ranged from {presence.min():,.2f} to {presence.max():,.2f} (in the data's own "
            "units) over the history.")


def _q(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q))


def build_report(idata: az.InferenceData, draws: xr.Dataset, manifest: dict[str, Any],
                 dataset: Dataset, family: Family, figures: Figures | None = None,
                 checks: pd.DataFrame | None = None) -> str:
    figures = figures or Figures()
    totals = summaries.total_summary(draws)
    contrasts = summaries.contrasts(draws)
    exceed = summaries.exceedance(draws)
    exceed_wide = exceed.pivot(index="scenario", columns="threshold", values="p_total_above")
    exceed_wide.columns = [f"P(total > {k})" for k in exceed_wide.columns]
    first = summaries.first_attack(draws)
    p_none = first[first["months_until_first_attack"] == "none in horizon"][["scenario", "probability"]]
    p_none = p_none.rename(columns={"probability": "P(no attack in horizon)"})
    months = list(draws["month"].values)
    parts = [
        "<h1>Militia attacks on US forces: scenario forecast</h1>",
        _verdict_banner(manifest),
        _ensemble_section(manifest),
        _plain_words(idata, family, dataset),
        "<h2>What was asked</h2>",
        f"<p>Scenarios: {', '.join(draws['scenario'].values)}. Horizon: {months[0]} to {months[-1]} "
        f"({len(months)} months). Data: {html.escape(dataset.name)}, {dataset.axis.labels[0]} to "
        f"{dataset.axis.labels[-1]}, {len(dataset.fitted)} observations in the likelihood "
        f"({', '.join(f'{k} {v}' for k, v in manifest['data']['observations']['fitted_by_bound'].items())})."
        "</p><ul>" + "".join(f"<li><b>{html.escape(s['name'])}</b>"
                             + (f" (against {html.escape(s['baseline'])})" if s.get("baseline") else "")
                             + "</li>" for s in manifest.get("scenarios", [])) + "</ul>",
        "<h2>Horizon totals</h2><p>Attacks on US forces summed over the horizon: mean, median and "
        "intervals over posterior draws. Intervals are wide because the activity level is "
        f"uncertain; {_unobserved_bins(dataset)} of the data's {dataset.axis.n} {dataset.axis.freq}s "
        "are covered by no fitted observation.</p>",
        _table(totals.merge(p_none, on="scenario")),
        _capped_note(draws),
        "<h2>Contrasts against the baseline</h2><p>Draw-by-draw differences (scenario minus "
        "baseline), using the same random numbers for every scenario, so the interval reflects "
        "uncertainty about the effect, not simulation noise.</p>",
        _table(contrasts[["scenario", "baseline", "diff_median", "diff_q10", "diff_q90", "diff_q02_5",
                          "diff_q97_5", "ratio_median", "p_fewer_than_baseline"]]) if len(contrasts) else
        "<p>No scenario of this run has a baseline: no contrasts.</p>",
    ]
    if len(contrasts):
        parts.append(figures.embed("contrasts", plots.contrast_chart(contrasts)))
    parts += ["<h2>Exceedance probabilities</h2>", _table(exceed_wide.reset_index(), 3),
              "<h2>Time to the first attack</h2>", _table(_first_attack_table(first), 3),
              "<h2>Fan charts</h2>"]
    fitted = dataset.fitted
    for s in draws["scenario"].values:
        parts.append(figures.embed(f"fan_{s}", plots.fan_chart(idata.posterior["rate"], fitted, draws,
                                                                 str(s))))
    if "prior" in idata.groups():
        names = [n for n in family.key_parameters if n in idata.posterior]
        parts += ["<h2>Key parameters: prior against posterior</h2><p>Where the two histograms "
                  "overlap, the data say little and the number comes from the prior."
                  + _presence_range(dataset) + "</p>",
                  figures.embed("prior_posterior", plots.prior_posterior(idata.prior, idata.posterior,
                                                                         names))]
    if checks is not None and len(checks):
        predicted = checks.dropna(subset=["tail_probability"])
        n_out = int(predicted["outside_central_95"].sum())
        n_fit = int((predicted["use"] == "fit").sum())
        parts += ["<h2>Posterior predictive check (checks.csv)</h2><p>Every observation of the data, "
                  "against the counts the fitted model predicts for its span: "
                  f"{len(predicted)} predicted rows, {n_fit} fitted (in the likelihood) and "
                  f"{len(predicted) - n_fit} check rows (not fitted). {n_out} of them lie outside the "
                  f"central 95% of their predictive distribution ({n_out / max(len(predicted), 1):.0%}; "
                  "a calibrated model leaves about 5% there). "
                  + (f"{len(checks) - len(predicted)} rows are not predicted "
                     f"({html.escape(family.unpredicted_reason)}). " if len(predicted) < len(checks) else "")
                  + "The worst predicted:</p>",
                  _table(worst_checks(checks)[["id", "use", "definition", "start", "end", "lo", "hi",
                                              "predicted_median", "p_inside", "tail_probability"]], 4)]
    if "posterior_predictive" in idata.groups() and "obs" in idata.posterior_predictive:
        predictive = idata.posterior_predictive["obs"].stack(s=("chain", "draw")).values
        parts += ["<p>The fitted observations against draws of their predictive distribution:</p>",
                  figures.embed("predictive_check", plots.predictive_check(fitted, predictive))]
    summary = az.summary(idata, var_names=[n for n in [*family.key_parameters, "intercept"]
                                           if n in idata.posterior], kind="all")
    # covariate coefficients per sd (as fitted) and per unit of the covariate
    summary = pd.concat([summary, coefficient_summary(idata, list(dataset.covariates.columns),
                                                      family.cov_sd)])
    parts += ["<h2>Diagnostics</h2>", _verdict_banner(manifest),
              summary.reset_index().rename(columns={"index": "parameter"}).to_html(index=False, border=0,
                                                                                   classes="t"),
              "<h2>Data provenance</h2><p>Counting definitions of the fitted observations (the "
              f"reference, ratio 1, is {html.escape(dataset.reference)}): "
              + ", ".join(html.escape(d) for d in dataset.definitions)
              + ". Observations entering the likelihood, with their source:</p>",
              _table(fitted[["id", "start", "end", "count", "bound", "lo", "hi", "definition",
                             "source"]].assign(start=lambda f: f["start"].dt.date,
                                               end=lambda f: f["end"].dt.date)),
              "<h2>Manifest</h2><pre>" + html.escape(json.dumps(
                  {k: manifest[k] for k in ("versions", "settings", "scenario_seed", "data", "priors",
                                            "scenarios") if k in manifest}, indent=1, default=str))
              + "</pre>"]
    return page("Scenario forecast", "".join(parts))


def markdown_summary(draws: xr.Dataset, manifest: dict[str, Any], dataset: Dataset | None = None) -> str:
    """A short Markdown summary for pasting into a memo."""
    totals = summaries.total_summary(draws)
    contrasts = summaries.contrasts(draws)
    months = list(draws["month"].values)
    lines = [f"# Scenario forecast, {months[0]} to {months[-1]}", ""]
    if manifest.get("verdict") != "passed":
        lines += ["**WARNING: the fit failed its diagnostics gate; do not cite these numbers.**", ""]
    lines += ["| scenario | median total | 80% interval |", "|---|---:|---:|"]
    for _, r in totals.iterrows():
        lines.append(f"| {r['scenario']} | {r['median']:.0f} | {r['q10']:.0f} to {r['q90']:.0f} |")
    if len(contrasts):
        lines += ["", "| scenario vs baseline | median difference | 80% interval | P(fewer) |",
                  "|---|---:|---:|---:|"]
        for _, r in contrasts.iterrows():
            lines.append(f"| {r['scenario']} vs {r['baseline']} | {r['diff_median']:.0f} | "
                         f"{r['diff_q10']:.0f} to {r['diff_q90']:.0f} | {r['p_fewer_than_baseline']:.2f} |")
    lines += ["", f"Model {manifest.get('model')}, seed {manifest.get('scenario_seed')}, fit key "
              f"{manifest.get('fit_key')}." + (f" {_counts_note(dataset)}" if dataset is not None else "")]
    return "\n".join(lines) + "\n"


def write_report(folder: Path, idata: az.InferenceData, draws: xr.Dataset, manifest: dict[str, Any],
                 dataset: Dataset, family: Family, checks: pd.DataFrame | None = None) -> None:
    """report.html (self-contained), summary.md and figures/*.png into `folder`."""
    folder = Path(folder)
    figures = Figures()
    page_html = build_report(idata, draws, manifest, dataset, family, figures, checks)
    (folder / "report.html").write_text(page_html, encoding="utf-8")
    (folder / "summary.md").write_text(markdown_summary(draws, manifest, dataset), encoding="utf-8")
    (folder / "figures").mkdir(exist_ok=True)
    for name, data in figures.files.items():
        (folder / "figures" / name).write_bytes(data)
