"""backtest.csv, summary.csv and backtest.html (score tables, PIT histograms) in a new run folder."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast import runs
from forecast.evaluation.backtest import summarise

PIT_BINS = 10


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def pit_histograms(frame: pd.DataFrame) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pit = frame.dropna(subset=["pit"])
    models = list(dict.fromkeys(pit["model"]))
    if not models:
        return "<p>No exact count among the targets: no PIT values.</p>"
    fig, axes = plt.subplots(1, len(models), figsize=(2.6 * len(models), 2.4), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        values = pit[pit["model"] == model]["pit"].to_numpy()
        ax.hist(values, bins=np.linspace(0, 1, PIT_BINS + 1), density=True, color="#4c72b0",
                edgecolor="white")
        ax.axhline(1.0, color="black", lw=0.8, ls="--")
        ax.set_title(f"{model} (n={values.size})", fontsize=9)
        ax.set_xlim(0, 1)
    axes[0][0].set_ylabel("density")
    return _png(fig)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–", border=0)


def backtest_html(frame: pd.DataFrame, summary: pd.DataFrame, manifest: dict[str, Any],
                  sbc: str = "") -> str:
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
    sbc_html = ""
    if sbc_ranks is not None:
        from forecast.evaluation.sbc import sbc_section

        sbc_html = sbc_section(sbc_ranks)
    with runs.staged_run(out) as tmp:
        frame.to_csv(tmp / "backtest.csv", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        if sbc_ranks is not None:
            sbc_ranks.to_csv(tmp / "sbc.csv", index=False)
        (tmp / "backtest.html").write_text(backtest_html(frame, summary, manifest, sbc_html))
        runs.write_json(tmp / runs.MANIFEST, {**manifest, "kind": "backtest",
                                              "versions": runs.versions()})
    return out
