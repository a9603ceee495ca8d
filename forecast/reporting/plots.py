"""Figures from InferenceData and tidy tables (never from a model object).

Colour-blind-safe palette (Okabe-Ito); labelled axes with units; dates on time axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
BOUND_STYLE = {"exact": ("o", "#000000"), "approx": ("s", "#D55E00"), "at_least": ("^", "#009E73")}



def _subplots(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure with one axes, without pyplot (no global backend or figure registry)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def fan_chart(history_rate: xr.DataArray, observations: pd.DataFrame, draws: xr.Dataset,
              scenario: str, ax: Axes | None = None) -> Figure:
    """History (posterior rate) and one scenario's forecast counts, with the observations.

    history_rate: posterior 'rate' (chain, draw, bin); observations: fitted rows with
    start, end, count, lo, hi, bound, definition.
    """
    fig, ax = (ax.figure, ax) if ax is not None else _subplots(figsize=(10, 4.2))
    hist = history_rate.stack(s=("chain", "draw")).values
    hist_dates = pd.to_datetime(history_rate["bin"].values)
    q = np.quantile(hist, [0.1, 0.5, 0.9], axis=1)
    ax.fill_between(hist_dates, q[0], q[2], color=OKABE_ITO[4], alpha=0.35, step="mid",
                    label="fitted rate, 80% interval")
    ax.plot(hist_dates, q[1], color=OKABE_ITO[0], lw=1.2, label="fitted rate, median")
    counts = draws["count"].sel(scenario=scenario).values
    months = pd.to_datetime(draws["month"].values)
    for level, alpha in ((0.95, 0.2), (0.8, 0.35), (0.5, 0.55)):
        lo, hi = np.quantile(counts, [(1 - level) / 2, (1 + level) / 2], axis=0)
        ax.fill_between(months, lo, hi, color=OKABE_ITO[1], alpha=alpha, step="mid",
                        label=f"forecast, {int(level * 100)}% interval")
    ax.plot(months, np.median(counts, axis=0), color=OKABE_ITO[5], lw=1.5, label="forecast median")
    for bound, (marker, colour) in BOUND_STYLE.items():
        rows = observations[observations["bound"] == bound]
        days = (rows["end"] - rows["start"]).dt.days.to_numpy() + 1
        per_month = 30.4 / days
        counts_obs = rows["count"].to_numpy(dtype=float)
        # a total over several months: a horizontal bar at its monthly mean
        long = days > 40
        if long.any():
            ax.hlines(counts_obs[long] * per_month[long], rows["start"][long], rows["end"][long],
                      color=colour, lw=2)
        # one artist per kind of bound (one per row made the figures slow to draw)
        mids = rows["start"] + (rows["end"] - rows["start"]) / 2
        heights = np.where(days < 28, counts_obs * np.minimum(per_month, 1.0), counts_obs)
        ax.plot(mids[~long], heights[~long], marker=marker, color=colour, ms=4, ls="none",
                label=f"observed ({bound})")
    ax.set_yscale("symlog", linthresh=5)
    ax.set_ylabel("attacks per month\n(linear to 5, logarithmic above)")
    ax.set_xlabel("month")
    ax.set_title(f"{scenario}: history and forecast")
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    fig.tight_layout()
    return fig


def overlay_chart(draws: xr.Dataset, ax: Axes | None = None,
                  title: str = "Every scenario: median and 80% interval of attacks per month",
                  history: xr.DataArray | None = None, ymax: float | None = None) -> Figure:
    """Every scenario's monthly attacks on one chart: median and 80% band (for summary.md);
    with `history` (the fitted rate, chain x draw x bin), the fitted past before them; `ymax`
    cuts the axis (the history's peaks may rise above it)."""
    fig, ax = (ax.figure, ax) if ax is not None else _subplots(figsize=(10, 4.2))
    if history is not None:
        past = history.stack(s=("chain", "draw")).transpose("bin", "s").values
        lo, med, hi = np.quantile(past, [0.1, 0.5, 0.9], axis=1)
        dates = pd.to_datetime(history["bin"].values)
        ax.fill_between(dates, lo, hi, color="0.6", alpha=0.35, step="mid")
        ax.plot(dates, med, color="0.2", lw=1.2, label="fitted rate", drawstyle="steps-mid")
    months = pd.to_datetime(draws["month"].values)
    for i, scenario in enumerate(map(str, draws["scenario"].values)):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        lo, med, hi = np.quantile(draws["count"].sel(scenario=scenario).values, [0.1, 0.5, 0.9], axis=0)
        ax.fill_between(months, lo, hi, color=colour, alpha=0.12, step="mid")
        ax.plot(months, med, color=colour, lw=1.8, label=scenario, drawstyle="steps-mid")
    ax.set_ylabel("attacks per month")
    ax.set_xlabel("month")
    ax.set_ylim(bottom=0, top=ymax)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=4, loc="upper left")
    fig.tight_layout()
    return fig


def contrast_chart(contrasts: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Horizon-total difference against the baseline, median with 80% and 95% intervals."""
    # tall enough for the legend even with one contrast (it was clipped)
    fig, ax = (ax.figure, ax) if ax is not None else _subplots(figsize=(8, 1.8 + 0.45 * len(contrasts)))
    y = np.arange(len(contrasts))
    ax.hlines(y, contrasts["diff_q02_5"], contrasts["diff_q97_5"], color=OKABE_ITO[4], lw=2,
              label="95% interval")
    ax.hlines(y, contrasts["diff_q10"], contrasts["diff_q90"], color=OKABE_ITO[0], lw=5,
              label="80% interval")
    ax.plot(contrasts["diff_median"], y, "o", color=OKABE_ITO[5], label="median")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{s} vs {b}" for s, b in zip(contrasts["scenario"], contrasts["baseline"])])
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("difference in total attacks over the horizon, scenario minus baseline\n"
                  "(linear within +-10, logarithmic beyond)")
    ax.set_ylim(-0.8, len(contrasts) - 0.2)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.margins(y=0.35)
    fig.tight_layout()
    return fig


def prior_posterior(prior: xr.Dataset, posterior: xr.Dataset, names: list[str]) -> Figure:
    """Histograms of prior and posterior draws for scalar parameters (and vector members)."""
    panels = []
    for name in names:
        if name not in posterior:
            continue
        post = posterior[name]
        extra = [d for d in post.dims if d not in ("chain", "draw")]
        if extra:
            for member in post[extra[0]].values:
                panels.append((f"{name}[{member}]", prior[name].sel({extra[0]: member}).values.ravel(),
                               post.sel({extra[0]: member}).values.ravel()))
        else:
            panels.append((name, prior[name].values.ravel(), post.values.ravel()))
    cols = 3
    rows = max(1, int(np.ceil(len(panels) / cols)))
    fig = Figure(figsize=(10, 2.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (label, pr, po) in zip(axes.ravel(), panels):
        edges = np.histogram_bin_edges(np.concatenate([pr, po]), bins=40)
        # one filled step outline per histogram (ax.hist draws a patch per bar: slow to render)
        ax.stairs(np.histogram(pr, bins=edges, density=True)[0], edges, fill=True, color=OKABE_ITO[1],
                  alpha=0.5, label="prior")
        ax.stairs(np.histogram(po, bins=edges, density=True)[0], edges, fill=True, color=OKABE_ITO[0],
                  alpha=0.6, label="posterior")
        ax.set_title(label, fontsize=9)
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def predictive_check(observations: pd.DataFrame, predictive: np.ndarray) -> Figure:
    """Each fitted observation: its 50% and 90% posterior predictive interval against the
    observed count or interval (at-least rows drawn as an open bar upwards).

    predictive: (observations, samples) draws of the observed quantity.
    """
    n = len(observations)
    fig, ax = _subplots(figsize=(10, 0.6 + 0.22 * n))
    y = np.arange(n)
    q = np.quantile(predictive, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    ax.hlines(y, q[0] + 0.5, q[4] + 0.5, color=OKABE_ITO[4], lw=3, label="predictive 90%")
    ax.hlines(y, q[1] + 0.5, q[3] + 0.5, color=OKABE_ITO[0], lw=6, label="predictive 50%")
    for i, (_, row) in enumerate(observations.iterrows()):
        marker, colour = BOUND_STYLE[row["bound"]]
        hi = row["hi"] if np.isfinite(row["hi"]) else max(q[4][i], row["lo"]) * 1.5 + 1
        ax.plot([row["lo"] + 0.5, hi + 0.5], [i, i], color=colour, lw=1)
        ax.plot(row["lo"] + 0.5, i, marker=marker, color=colour, ls="none", ms=5)
    for bound, (marker, colour) in BOUND_STYLE.items():
        ax.plot([], [], marker=marker, color=colour, label=f"observed ({bound})")
    labels = [f"{r['start'].date()}..{r['end'].date()} {r['definition']}" for _, r in observations.iterrows()]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("attacks in the observation's span (+0.5, log scale)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
