"""The report section of an ensemble run: its weights, what they were computed from, and caveats."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

LFO_TEXT = ("Each model was refitted at every origin on the data published before it and scored on "
            "what came next (leave-future-out, exact refits): the weights are those of the mix that "
            "would have predicted those targets best. They rest on few points (n_points), so treat "
            "them as rough, and on the recent past only: a model that forecast the last months well "
            "may forecast a changed situation badly.")
LOO_TEXT = ("The weights come from leave-one-out cross-validation of the full fits (PSIS-LOO). LOO "
            "describes how well each model accounts for the history: a month is predicted from the "
            "months on both sides of it, which rewards models that interpolate and says little about "
            "forecasting. Prefer leave-future-out weights (the default) for a forecast.")


def ensemble_section(manifest: dict[str, Any]) -> str:
    """HTML: the weights of an ensemble run (a one-line model note for a single model)."""
    ensemble = manifest.get("ensemble")
    if not ensemble:
        return f"<p>Model: {html.escape(str(manifest.get('model', 'unknown')))}.</p>"
    weights_from = ensemble.get("weights_from", "loo")          # runs made before LFO used LOO
    label = ensemble.get("label", "LOO (describes the history, rewards interpolation)")
    table = pd.DataFrame(ensemble.get("table") or ensemble["loo"]).drop(columns="weights_from",
                                                                        errors="ignore")
    method = "pseudo-BMA+" if ensemble.get("method") == "pseudo-bma" else "stacking"
    parts = [f"<h2>Models and their weights</h2><p>Weights: {method}, from {html.escape(label)}. "
             "The forecasts mix several model families, each draw taken from one model in "
             "proportion to its weight. The parameter sections below describe the model with the "
             f"largest weight, {html.escape(str(ensemble['lead_model']))}.</p>"]
    if weights_from == "lfo":
        origins = ", ".join(ensemble.get("origins", []))
        parts.append(f"<p>{html.escape(LFO_TEXT)} Origins: {html.escape(origins)}.</p>")
        notes = "".join(f"<li>{html.escape(str(n['model']))} at {html.escape(str(n['origin']))}: "
                        f"{html.escape(str(n['note']))}</li>" for n in ensemble.get("notes", []))
        if notes:
            parts.append(f"<ul>{notes}</ul>")
    else:
        parts.append(f"<p><b>{html.escape(LOO_TEXT)}</b></p>")
    parts.append(table.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0))
    high_k = "".join(f"<li>{html.escape(m)}: {len(ids)} observation(s) with Pareto k &gt; 0.7 "
                     f"({html.escape(', '.join(ids))}): its LOO estimate is unreliable there.</li>"
                     for m, ids in ensemble.get("pareto_k_above_0.7", {}).items() if ids)
    if high_k:
        parts.append(f"<ul>{high_k}</ul>")
    return "".join(parts)
