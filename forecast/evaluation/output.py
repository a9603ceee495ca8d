"""backtest.csv, summary.csv and backtest.html (score tables, PIT histograms) in a new run folder."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast import runs
from forecast.evaluation.backtest import summarise
from forecast.evaluation.lfo import backtest_weights
from forecast.evaluation.mixture import NAME as ENSEMBLE
from forecast.evaluation.sbc import PARAMETERS as SBC_PARAMETERS
from forecast.reporting.html import img_tag, png_bytes

PIT_BINS = 10


def _png(fig: Figure) -> str:
    return img_tag(png_bytes(fig, dpi=90, tight=True))


def pit_figure(frame: pd.DataFrame) -> Figure | None:
    """Randomised PIT histograms of the exact-count targets, one panel per model (None if none)."""
    pit = frame.dropna(subset=["pit"])
    models = list(dict.fromkeys(pit["model"]))
    if not models:
        return None
    fig = Figure(figsize=(2.6 * len(models), 2.4))
    axes = fig.subplots(1, len(models), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        values = pit[pit["model"] == model]["pit"].to_numpy()
        ax.hist(values, bins=np.linspace(0, 1, PIT_BINS + 1), density=True, color="#4c72b0",
                edgecolor="white")
        ax.axhline(1.0, color="black", lw=0.8, ls="--")
        ax.set_title(f"{model} (n={values.size})", fontsize=9)
        ax.set_xlim(0, 1)
    axes[0][0].set_ylabel("density")
    return fig


def pit_histograms(frame: pd.DataFrame) -> str:
    fig = pit_figure(frame)
    if fig is None:
        return "<p>No exact count among the targets: no PIT values.</p>"
    return _png(fig)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–", border=0)


def sbc_section(ranks: pd.DataFrame, bins: int = 10) -> str:
    """HTML section: rank histograms of the key parameters."""
    if ranks.empty:
        return ""
    kept = ranks["draws"].to_numpy(dtype=float)
    fig = Figure(figsize=(2.6 * len(SBC_PARAMETERS), 2.4))
    axes = fig.subplots(1, len(SBC_PARAMETERS), squeeze=False)
    for ax, p in zip(axes[0], SBC_PARAMETERS):
        # rank r of L + 1 possible values as the centre of its share of [0, 1]
        ax.hist((ranks[f"rank_{p}"].to_numpy() + 0.5) / (kept + 1), bins=np.linspace(0, 1, bins + 1),
                color="#dd8452", edgecolor="white")
        ax.axhline(len(ranks) / bins, color="black", lw=0.8, ls="--")
        ax.set_title(p, fontsize=9)
    return (f"<h2>Simulation-based calibration ({len(ranks)} replications, {int(kept.min())}-"
            f"{int(kept.max())} thinned draws each)</h2>"
            "<p>Rank of the true value among the posterior draws thinned to about their smallest "
            "bulk ESS, as a share of the draws kept; uniform ranks (the dashed line) "
            "mean a calibrated fit. A U shape means over-confidence, a hump under-confidence, a "
            "slope bias.</p>" + _png(fig))


def weights_section(weights: pd.DataFrame | None) -> str:
    if weights is None:
        return ""
    return ("<h2>Leave-future-out stacking weights (one step ahead)</h2><p>The weights of the mix "
            "of these contenders that would have predicted the targets one bin ahead of these "
            "origins best (each contender fitted on the data published before the origin). They "
            "are computed on the same targets the tables score, so they describe this backtest; "
            "the score of that mix is not shown.</p>" + _table(weights))


def ensemble_section(frame: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """The LFO ensemble's weight at each origin and where it came from."""
    rows = frame[frame["model"] == ENSEMBLE] if "model" in frame else frame.iloc[:0]
    if rows.empty:
        return ""
    pair = manifest.get("ensemble") or ["model", "baseline"]
    table = rows.drop_duplicates("origin")[["origin", "weight", "note"]].rename(
        columns={"weight": f"weight of {pair[0]}"})
    return (f"<h2>LFO ensemble ({html.escape(ENSEMBLE)})</h2><p>The mixture w &middot; "
            f"{html.escape(pair[0])} + (1 &minus; w) &middot; {html.escape(pair[1])}. At each origin w "
            "is the stacking weight of the two contenders' log predictive densities of the "
            "one-step-ahead targets of earlier origins that were published before this origin "
            f"(equal weights with fewer than three); it never uses a target published later. "
            "Its scores are exact mixtures of the members' probabilities; its CRPS estimates "
            "the members' cross term by Monte Carlo.</p>" + _table(table))


def backtest_html(frame: pd.DataFrame, summary: pd.DataFrame, manifest: dict[str, Any],
                  sbc: str = "", weights: pd.DataFrame | None = None) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Backtest</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;text-align:right}"
        "tr:nth-child(even){background:#f3f3f3}</style></head><body>",
        "<h1>Rolling-origin backtest</h1>",
        f"<p>Data <b>{html.escape(str(manifest.get('data')))}</b>; origins "
        f"{html.escape(', '.join(manifest.get('origins', [])))}; horizon {manifest.get('horizon')} "
        f"bins; seed {manifest.get('seed')}; fit {html.escape(str(manifest.get('fit')))}.</p>",
        "<p>Every model is scored on one common set of targets per origin; n_targets is the "
        "number of targets in a cell, and each n_ column the number a score is over. Lower is "
        "better for CRPS, log score and Brier. CRPS is over exact single-bin counts; the log score "
        "over every target (for an interval or bound, -log P(lo &le; Y &le; hi)). Coverage "
        "(cover50/80/95, near its nominal level when calibrated) is over exact counts only; for "
        "interval and bound targets p_interval is the mean probability the model gave the "
        "reported interval. "
        "The model is given the observed presence path over the horizon and no future events.</p>",
    ]
    if frame.empty:
        parts.append("<p>No backtest in this run.</p>" if sbc else "<p>No target was scored.</p>")
    elif summary.empty:
        parts.append("<p>No target was scored.</p>")
    else:
        parts.append("<h2>Scores by model and step</h2>")
        for step, g in summary.groupby("step"):
            parts.append(f"<h3>Step {step}</h3>" + _table(g.drop(columns="step")))
        overall = summarise(frame.assign(step=0))
        if not overall.empty:
            parts.append("<h3>All steps</h3>" + _table(overall.drop(columns="step")))
        parts.append(ensemble_section(frame, manifest))
        parts.append(weights_section(weights))
    if not frame.empty:
        parts.append("<h2>Randomized PIT histograms (exact counts)</h2>" + pit_histograms(frame))
        notes = frame[frame["note"].astype(str) != ""][["model", "origin", "note"]].drop_duplicates()
        if not notes.empty:
            parts.append("<h2>Notes</h2>" + _table(notes))
    if sbc:
        parts.append(sbc)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_backtest_run(frame: pd.DataFrame, out: Path, manifest: dict[str, Any], sbc_ranks=None) -> Path:
    """Write the run folder atomically; never over an existing one."""
    summary = summarise(frame) if not frame.empty else pd.DataFrame()
    # the in-sample weights are of the contenders themselves, not of their mixture
    weights = backtest_weights(frame[frame["model"] != ENSEMBLE] if not frame.empty else frame)
    sbc_html = ""
    if sbc_ranks is not None:
        sbc_html = sbc_section(sbc_ranks)
    with runs.staged_run(out) as stage:
        tmp = stage.dir
        frame.to_csv(tmp / "backtest.csv", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        if weights is not None:
            weights.to_csv(tmp / "lfo_weights.csv", index=False)
        if sbc_ranks is not None:
            sbc_ranks.to_csv(tmp / "sbc.csv", index=False)
        (tmp / "backtest.html").write_text(backtest_html(frame, summary, manifest, sbc_html, weights))
        runs.write_json(tmp / runs.MANIFEST, {**manifest, "kind": "backtest",
                                              "versions": runs.versions()})
    return stage.final
