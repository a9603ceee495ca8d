"""A self-contained HTML report of a run: it opens with a bottom line per scenario, then the
scenarios, an overlay of them all and the tables (each with an embedded CSV download); charts
are interactive (Plotly, embedded: no network fetch) and static PNGs go to figures/ and summary.md.
"""

from __future__ import annotations

import html
import json
import os
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
from forecast.reporting import bottom_line, interactive, plots
from forecast.reporting.ensemble_section import ensemble_section
from forecast.reporting.html import Figures, page, png_bytes
from forecast.reporting.html import table as _table
from forecast.reporting.region_section import region_rows, region_section, total_rows
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


def _first_attack_table(first: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: P(first attack within 1, 3, 6 months) and P(none in the horizon)."""
    rows = []
    for scenario, group in first.groupby("scenario", sort=False):
        months = group[~group["censored"]]
        steps = months["months_until_first_attack"]
        row = {"scenario": scenario}
        for k in (1, 3, 6):
            row[f"P(first attack within {k} months)"] = float(months["probability"][steps <= k].sum())
        row["P(none in horizon)"] = float(group["probability"][group["censored"]].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _capped_note(draws: xr.Dataset) -> str:
    if "capped_share" not in draws or float(draws["capped_share"].max()) == 0:
        return ""
    worst = draws["capped_share"].to_series()
    return (f"<p>In {worst.max():.3%} of draw-months at most ({html.escape(str(worst.idxmax()))}) the "
            "simulated rate reached the cap of 100,000 attacks a month, a mark of the lognormal model's "
            "heavy upper tail. The tables report quantiles and probabilities only, which these draws do not "
            "move.</p>")


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


def prior_dependence_section(dependence: pd.DataFrame | None) -> str:
    """Beside the contrasts: how much of each the prior decides (prior_dependence.csv)."""
    if dependence is None or dependence.empty:
        return ""
    items = []
    for r in dependence.to_dict("records"):
        text = f"<b>{html.escape(str(r['scenario']))} vs {html.escape(str(r['baseline']))}</b>: "
        share = r.get("prior_overlap")
        if share is not None and np.isfinite(share):
            text += (f"its distribution overlaps {share:.0%} with the same contrast under the priors of the "
                     "effects alone" + (": mostly prior, the data say little about it" if share > 0.35 else
                                        ": the data moved it away from the prior") + ". ")
        if r.get("presence_outside_data"):
            text += (f"Its presence path ({r['scenario_presence_min']:,.2f} to "
                     f"{r['scenario_presence_max']:,.2f}) "
                     f"leaves the range the history spans ({r['data_presence_min']:,.2f} to "
                     f"{r['data_presence_max']:,.2f}): the footprint effect is extrapolated. ")
        for name, label in (("no_footprint_effect", "no footprint effect a priori"),
                            ("proportional", "attacks proportional to the footprint a priori")):
            if f"{name}_diff_median" in r:
                k = r[f"{name}_pareto_k"]
                trust = "" if k <= 0.7 else f" (Pareto k {k:.2f}: refit with --priors to trust it)"
                text += (f"Under the prior '{label}': median difference {r[f'{name}_diff_median']:,.0f} "
                         f"(80%: {r[f'{name}_diff_q10']:,.0f} to {r[f'{name}_diff_q90']:,.0f}), "
                         f"P(fewer) {r[f'{name}_p_fewer']:.2f}{trust}. ")
        items.append(f"<li>{text}</li>")
    return ("<h3>How much of each contrast comes from the prior</h3><ul>" + "".join(items) + "</ul>"
            "<p>Overlap: of the contrast (log ratio of expected totals) under the posterior and under "
            "prior draws of the effect parameters with the level kept at its posterior; above 35% marks "
            "a weakly identified quantity. Alternative priors by importance reweighting of the posterior "
            "draws. Table: prior_dependence.csv.</p>")


def _with_dependence(contrasts: pd.DataFrame, dependence: pd.DataFrame | None) -> pd.DataFrame:
    """The contrasts with prior_dependence.csv's overlap, and the footprint effect named as the
    prior a contrast leans on when its presence path differs from its baseline's."""
    if dependence is None or dependence.empty or contrasts.empty or "prior_overlap" not in dependence:
        return contrasts
    extra = dependence[["scenario", "prior_overlap"]].copy()
    moves = pd.Series(False, index=dependence.index)
    for column in ("presence_outside_data", "presence_differs"):
        if column in dependence:
            moves |= dependence[column].fillna(False).astype(bool)
    extra["prior_parameter"] = np.where(moves, "elasticity", "")
    return contrasts.drop(columns=["prior_overlap", "prior_parameter"], errors="ignore").merge(
        extra, on="scenario", how="left")


def _mcse_sentence(table: pd.DataFrame) -> str:
    """The largest Monte Carlo error of the table's quantiles, relative to the 80% interval's width."""
    cols = [c for c in table.columns if c.endswith("_mcse")]
    if not cols or table.empty:
        return ""
    worst = float(table[cols].to_numpy().max())
    return (f"Monte Carlo standard errors (in totals.csv beside each quantile) are at most {worst:,.1f} "
            "attacks.")


def _descriptions(draws: xr.Dataset, manifest: dict[str, Any]) -> list[str]:
    """Each scenario's `description`: from the draws, or (runs made before they carried it) from
    its file when that is unchanged since the run."""
    if "description" in draws:
        return [str(v) for v in draws["description"].values]
    from forecast.scenarios.spec import load_scenario

    by_name = {}
    for record in manifest.get("scenarios", []):
        path = Path(str(record.get("file", "")))
        if path.is_file():
            scenario = load_scenario(path)
            if scenario.sha256 == record.get("sha256"):
                by_name[scenario.name] = scenario.description
    return [by_name.get(str(s), "") for s in draws["scenario"].values]


def _scenario_section(draws: xr.Dataset, manifest: dict[str, Any]) -> str:
    """Each scenario's own description (its file's `description`), with its baseline."""
    descriptions = _descriptions(draws, manifest)
    items = []
    for name, base, text in zip(draws["scenario"].values, draws["baseline"].values, descriptions):
        against = f" (compared with {html.escape(str(base))})" if str(base) else " (no baseline)"
        words = html.escape(" ".join(str(text).split())) or "<i>no description in the scenario file</i>"
        items.append(f"<dt>{html.escape(str(name))}{against}</dt><dd>{words}</dd>")
    return "<h2>The scenarios</h2><dl class='sc'>" + "".join(items) + "</dl>"


def latest_backtest(roots: list[Path]) -> Path | None:
    """The newest published backtest report (reports/<date>-...backtest.../*.html), if any."""
    found = [html_file for root in roots if root.is_dir()
             for folder in root.iterdir() if folder.is_dir() and "backtest" in folder.name
             for html_file in sorted(folder.glob("*.html"))[:1]]
    return max(found, key=lambda p: p.parent.name) if found else None


def _backtest_link(link_from: Path | None) -> str:
    roots = [Path.cwd() / "reports", Path(__file__).resolve().parents[2] / "reports"]
    latest = latest_backtest(roots)
    if latest is None or link_from is None:
        return ("<p>How well this model forecast the past: no backtest report was found beside this "
                "run (reports/); `forecast backtest` makes one.</p>")
    relative = os.path.relpath(latest.resolve(), Path(link_from).resolve())
    return (f"<p>How well this model forecast the past: <a href=\"{html.escape(relative)}\">the latest "
            f"backtest ({html.escape(latest.parent.name)})</a> scores its forecasts at earlier dates "
            "against what was then reported.</p>")


def _q(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q))


COUNT_COLUMNS = ("mean", "median", "q02_5", "q10", "q25", "q75", "q90", "q97_5", "diff_median", "diff_q10",
                 "diff_q90", "diff_q02_5", "diff_q97_5", "lo", "predicted_median")


def build_report(idata: az.InferenceData, draws: xr.Dataset, manifest: dict[str, Any],
                 dataset: Dataset, family: Family, figures: Figures | None = None,
                 checks: pd.DataFrame | None = None, contrasts: pd.DataFrame | None = None,
                 link_from: Path | None = None, dependence: pd.DataFrame | None = None) -> str:
    """The report page. `contrasts`: the run's contrasts table (computed when not given; it may
    carry columns added elsewhere); `link_from`: the report's folder, for the relative link to
    the latest backtest; `dependence`: prior_dependence.csv, shown beside the contrasts."""
    figures = figures or Figures()
    all_totals = summaries.total_summary(draws, regions=True)
    all_contrasts = summaries.contrasts(draws, regions=True) if contrasts is None else contrasts
    # the page's tables are the total's; the regions get their own section
    totals, contrasts = total_rows(all_totals), total_rows(all_contrasts)
    exceed = summaries.exceedance(draws)
    exceed_wide = exceed.pivot(index="scenario", columns="threshold", values="p_total_above")
    exceed_wide.columns = [f"P(total > {k})" for k in exceed_wide.columns]
    first = summaries.first_attack(draws)
    p_none = first[first["censored"]][["scenario", "probability"]]
    p_none = p_none.rename(columns={"probability": "P(no attack in horizon)"})
    months = summaries.month_labels(draws)
    figures.files["overlay.png"] = plots_png(plots.overlay_chart(draws))
    parts = [
        "<h1>Militia attacks on US forces: scenario forecast</h1>",
        _verdict_banner(manifest),
        "<h2>Bottom line</h2><ul class='bottom'>"
        + "".join(f"<li>{s}</li>" for s in bottom_line.sentences(totals, _with_dependence(contrasts,
                                                                                           dependence),
                                                                 months)) + "</ul>"
        f"<p class='note'>{html.escape(_counts_note(dataset))} Summed over the horizon: "
        "posterior medians and 80% intervals; differences are paired draw by draw with the same "
        "random numbers in every scenario.</p>",
        _backtest_link(link_from),
        _scenario_section(draws, manifest),
        "<h2>All scenarios together</h2><p class='note'>Hover for the values of every scenario in a "
        "month; drag to zoom, double-click to reset, click a legend entry to hide a scenario.</p>",
        interactive.div(interactive.overlay_chart(draws), "overlay", height=500),
        ensemble_section(manifest),
        _plain_words(idata, family, dataset),
        "<h2>What was asked</h2>",
        f"<p>Scenarios: {', '.join(draws['scenario'].values)}. Horizon: {months[0]} to {months[-1]} "
        f"({len(months)} months). Data: {html.escape(dataset.name)}, {dataset.axis.labels[0]} to "
        f"{dataset.axis.labels[-1]}, {len(dataset.fitted)} observations in the likelihood "
        f"({', '.join(f'{k} {v}' for k, v in manifest['data']['observations']['fitted_by_bound'].items())})."
        "</p><ul>" + "".join(f"<li><b>{html.escape(s['name'])}</b>"
                             + (f" (against {html.escape(s['baseline'])})" if s.get("baseline") else "")
                             + "</li>" for s in manifest.get("scenarios", [])) + "</ul>",
        "<h2>Horizon totals</h2><p>Attacks on US forces summed over the horizon: median and "
        "intervals over posterior draws (no means: the upper tail is heavy, so a mean would be decided "
        "by a few draws). Intervals are wide because the activity level is "
        f"uncertain; {_unobserved_bins(dataset)} of the data's {dataset.axis.n} {dataset.axis.freq}s "
        "are covered by no fitted observation. "
        f"{_mcse_sentence(totals)}</p>",
        _table(totals[["scenario", "months", "median", "q10", "q90", "q02_5", "q97_5"]]
               .merge(p_none, on="scenario"), counts=COUNT_COLUMNS, download="totals.csv", data=totals),
        _capped_note(draws),
        "<h2>Contrasts against the baseline</h2><p>Draw-by-draw differences (scenario minus "
        "baseline), using the same random numbers for every scenario, so the interval reflects "
        "uncertainty about the effect, not simulation noise.</p>",
        _table(contrasts[["scenario", "baseline", "diff_median", "diff_q10", "diff_q90", "diff_q02_5",
                          "diff_q97_5", "ratio_median", "p_fewer_than_baseline"]], counts=COUNT_COLUMNS,
               download="contrasts.csv", data=contrasts) if len(contrasts) else
        "<p>No scenario of this run has a baseline: no contrasts.</p>",
    ]
    if len(contrasts):
        parts.append(figures.embed("contrasts", plots.contrast_chart(contrasts)))
        parts.append(prior_dependence_section(dependence))
    parts.append(region_section(draws, all_totals, all_contrasts, figures,
                                idata.posterior.get("rate_by_region")))
    parts += ["<h2>Exceedance probabilities</h2>",
              _table(exceed_wide.reset_index(), 3, download="exceedance.csv", data=exceed),
              "<h2>Time to the first attack</h2>",
              _table(_first_attack_table(first), 3, download="first_attack.csv", data=first),
              "<h2>Fan charts</h2><p class='note'>Per scenario: the fitted rate over the history, the "
              "forecast's 50/80/95% intervals and median, the reported counts (a total over several "
              "months as a bar at its monthly mean), US troops (dashed, right axis) and events "
              "(triangles: past modelled events in green, the scenario's own in pink; a shaded span "
              "is an uncertain date). Linear axes; drag to zoom.</p>"]
    fitted = dataset.fitted
    for s in draws["scenario"].values:
        static = plots.fan_chart(idata.posterior["rate"], fitted, draws, str(s))
        figures.files[f"fan_{s}.png"] = plots_png(static)
        parts.append(interactive.div(interactive.fan_chart(idata.posterior["rate"], dataset, draws, str(s)),
                                     f"fan-{s}", height=600))
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
                                              "predicted_median", "p_inside", "tail_probability"]], 4,
                         download="checks.csv", data=checks)]
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
    return page("Scenario forecast", "".join(parts), head=interactive.plotly_script())


def markdown_summary(draws: xr.Dataset, manifest: dict[str, Any],
                     contrasts: pd.DataFrame | None = None, dataset: Dataset | None = None) -> str:
    """A short Markdown summary for pasting into a memo (the bottom line, the overlay figure, tables)."""
    totals = summaries.total_summary(draws)
    all_contrasts = summaries.contrasts(draws, regions=True) if contrasts is None else contrasts
    contrasts, by_region = total_rows(all_contrasts), region_rows(all_contrasts)
    months = summaries.month_labels(draws)
    lines = [f"# Scenario forecast, {months[0]} to {months[-1]}", ""]
    if manifest.get("verdict") != "passed":
        lines += ["**WARNING: the fit failed its diagnostics gate; do not cite these numbers.**", ""]
    lines += [f"- {s.replace('<b>', '**').replace('</b>', '**')}"
              for s in bottom_line.sentences(totals, contrasts, months)]
    lines += ["", "![Every scenario: median and 80% interval of attacks per month](figures/overlay.png)", ""]
    lines += ["| scenario | median total | 80% interval |", "|---|---:|---:|"]
    for _, r in totals.iterrows():
        lines.append(f"| {r['scenario']} | {r['median']:.0f} | {r['q10']:.0f} to {r['q90']:.0f} |")
    if len(contrasts):
        lines += ["", "| scenario vs baseline | median difference | 80% interval | P(fewer) |",
                  "|---|---:|---:|---:|"]
        for _, r in contrasts.iterrows():
            lines.append(f"| {r['scenario']} vs {r['baseline']} | {r['diff_median']:.0f} | "
                         f"{r['diff_q10']:.0f} to {r['diff_q90']:.0f} | {r['p_fewer_than_baseline']:.2f} |")
    if len(by_region):
        lines += ["", f"By region (the total above is {draws.attrs.get('total_regions', 'all regions')}):",
                  "", "| scenario vs baseline | region | median difference | 80% interval | P(fewer) |",
                  "|---|---|---:|---:|---:|"]
        for _, r in by_region.iterrows():
            lines.append(f"| {r['scenario']} vs {r['baseline']} | {r['region']} | {r['diff_median']:.0f} | "
                         f"{r['diff_q10']:.0f} to {r['diff_q90']:.0f} | {r['p_fewer_than_baseline']:.2f} |")
    lines += ["", f"Model {manifest.get('model')}, seed {manifest.get('scenario_seed')}, fit key "
              f"{manifest.get('fit_key')}." + (f" {_counts_note(dataset)}" if dataset is not None else "")]
    return "\n".join(lines) + "\n"


def plots_png(fig: Any) -> bytes:
    """A static figure for figures/ and summary.md (not embedded: the page has the interactive one)."""
    return png_bytes(fig)


def _contrasts_table(folder: Path) -> pd.DataFrame | None:
    """The run's contrasts.csv when written (it may carry more columns than this module computes)."""
    path = folder / "contrasts.csv"
    if not path.exists():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:      # no scenario has a baseline
        return pd.DataFrame()


def write_report(folder: Path, idata: az.InferenceData, draws: xr.Dataset, manifest: dict[str, Any],
                 dataset: Dataset, family: Family, checks: pd.DataFrame | None = None,
                 dependence: pd.DataFrame | None = None, tables_from: Path | None = None) -> None:
    """report.html (self-contained), summary.md and figures/*.png into `folder`.

    `tables_from`: the run folder whose contrasts.csv to use (default `folder`).
    """
    folder = Path(folder)
    figures = Figures()
    contrasts = _contrasts_table(Path(tables_from or folder))
    page_html = build_report(idata, draws, manifest, dataset, family, figures, checks, contrasts,
                             link_from=folder, dependence=dependence)
    (folder / "report.html").write_text(page_html, encoding="utf-8")
    memo = markdown_summary(draws, manifest, _with_dependence(contrasts, dependence), dataset)
    (folder / "summary.md").write_text(memo, encoding="utf-8")
    (folder / "figures").mkdir(exist_ok=True)
    for name, data in figures.files.items():
        (folder / "figures" / name).write_bytes(data)
