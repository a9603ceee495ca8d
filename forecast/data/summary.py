"""A readable text summary of a dataset (`forecast data show`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.data.dataset import Dataset


def coverage(dataset: Dataset) -> np.ndarray:
    """Share of each bin covered by at least one fitted observation."""
    w = dataset.weights()
    return np.clip(w.sum(axis=0), 0, 1) if len(w) else np.zeros(dataset.axis.n)


def gaps(dataset: Dataset) -> list[tuple[str, str]]:
    """Runs of bins with no fitted observation at all (no likelihood term)."""
    uncovered = coverage(dataset) == 0
    labels = dataset.axis.labels
    runs, start = [], None
    for i, flag in enumerate(uncovered):
        if flag and start is None:
            start = i
        if not flag and start is not None:
            runs.append((labels[start], labels[i - 1]))
            start = None
    if start is not None:
        runs.append((labels[start], labels[-1]))
    return runs


def per_year(dataset: Dataset) -> pd.DataFrame:
    """Per calendar year: fitted rows touching it and the reference counts of exact single bins."""
    fitted = dataset.fitted
    axis = dataset.axis
    years = sorted({d.year for d in axis.starts})
    rows = []
    for year in years:
        first, last = pd.Timestamp(f"{year}-01-01"), pd.Timestamp(f"{year}-12-31")
        touching = fitted[(fitted["start"] <= last) & (fitted["end"] >= first)]
        within = touching[(touching["start"] >= first) & (touching["end"] <= last)]
        exact_ref = within[(within["bound"] == "exact") & (within["definition"] == dataset.reference)]
        rows.append({
            "year": year, "fitted_rows": len(touching),
            "exact": int((touching["bound"] == "exact").sum()),
            "at_least": int((touching["bound"] == "at_least").sum()),
            "approx": int((touching["bound"] == "approx").sum()),
            "exact_reference_sum": int(exact_ref["count"].sum()),
            "bins_covered": int((coverage(dataset)[[d.year == year for d in axis.starts]] > 0).sum()),
        })
    return pd.DataFrame(rows)


def latest_information(dataset: Dataset) -> tuple[str | None, pd.Timestamp | None]:
    """(label of the last bin any observation row touches, fit or check; latest published date).

    Bins after it carry no information at all: the axis may run on (e.g. with presence).
    """
    obs = dataset.observations
    if obs.empty:
        return None, None
    last_bin = min(dataset.axis.index_of(obs["end"].max()), dataset.axis.n - 1)
    published = obs["published"].max() if "published" in obs.columns else None
    return dataset.axis.labels[last_bin], (None if pd.isna(published) else pd.Timestamp(published))


def describe(dataset: Dataset) -> str:
    axis = dataset.axis
    obs = dataset.observations
    fitted = dataset.fitted
    lines = [
        f"dataset: {dataset.name}",
        f"bins: {axis.n} {axis.freq}s, {axis.labels[0]} .. {axis.labels[-1]}",
        f"observations: {len(obs)} rows, {len(fitted)} enter the likelihood, "
        f"{len(obs) - len(fitted)} are checks",
        "fitted rows by kind: " + ", ".join(f"{k} {v}" for k, v in
                                            fitted["bound"].value_counts().sort_index().items()),
        f"reference counting definition: {dataset.reference}",
        "definitions (fitted rows / check rows):",
    ]
    for definition in sorted(set(obs["definition"])):
        n_fit = int((fitted["definition"] == definition).sum())
        n_check = int(((obs["definition"] == definition) & (obs["use"] == "check")).sum())
        lines.append(f"  {definition}: {n_fit} / {n_check}")
    lines.append("per year (rows touching the year; sum of exact single-span reference counts):")
    lines.append("  " + per_year(dataset).to_string(index=False).replace("\n", "\n  "))
    last_label, last_published = latest_information(dataset)
    if last_label is not None:
        after = dataset.axis.n - 1 - dataset.axis.labels.index(last_label)
        lines.append(f"latest {axis.freq} with any information (any observation row, fit or check): "
                     f"{last_label}" + (f" ({after} later {axis.freq}s have none)" if after else ""))
    if last_published is not None:
        lines.append(f"latest published date of an observation: {last_published.date()}")
    holes = gaps(dataset)
    lines.append(f"gaps with no likelihood term: {len(holes)}" + ("" if not holes else ": " + ", ".join(
        a if a == b else f"{a}..{b}" for a, b in holes)))
    if dataset.presence is not None:
        p = dataset.presence
        lines.append(f"presence (thousands of US troops): {p.min():.2f} .. {p.max():.2f}, last {p[-1]:.2f}")
    if dataset.regional:
        lines.append("regions: " + ", ".join(dataset.regions))
        if dataset.presence_by_region is not None:
            last = dataset.presence_by_region[-1]
            lines.append("  presence by region, last: " + ", ".join(
                f"{r} {v:.2f}" for r, v in zip(dataset.regions, last)))
    if dataset.presence is None:
        lines.append("presence: none (no force-footprint term)")
    if not dataset.covariates.empty:
        lines.append("other covariates: " + ", ".join(dataset.covariates.columns))
    events = dataset.events
    if len(events):
        kinds = events["kind"].value_counts().sort_index()
        lines.append(f"events: {len(events)} (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")")
    else:
        lines.append("events: none")
    return "\n".join(lines)
