"""Interactive charts of the report (hover values, zoom, pan): Plotly figures as HTML fragments.

The Plotly library is embedded once in the page (`plotly_script`), so the report stays one
file that works offline; the charts draw from the same tables and draws as the static PNG
figures (`plots.py`), which summary.md and the figures folder keep.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import xarray as xr
from plotly.offline import get_plotlyjs

from forecast.core.effects import MODELLED_KINDS
from forecast.data.dataset import Dataset
from forecast.reporting.plots import BOUND_STYLE, OKABE_ITO

# no link to Plotly's site, no logo; the mode bar keeps zoom, pan, reset and PNG download
CONFIG = {"displaylogo": False, "responsive": True,
          "modeBarButtonsToRemove": ["select2d", "lasso2d", "sendDataToCloud", "editInChartStudio"]}
# the legend below the plot: above it, long legends ran into the title
LAYOUT = dict(template="plotly_white", hovermode="x unified", margin=dict(l=60, r=60, t=50, b=130),
              legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, font=dict(size=11)),
              font=dict(family="sans-serif", size=12))


def plotly_script() -> str:
    """The Plotly library inline, once per page (no network fetch)."""
    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def div(fig: go.Figure, name: str, height: int = 420) -> str:
    """An interactive chart as an HTML fragment (the library itself comes from `plotly_script`)."""
    fig.update_layout(height=height)
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, config=CONFIG, div_id=f"chart-{name}",
                       default_width="100%")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _band(x: pd.DatetimeIndex, lo: np.ndarray, hi: np.ndarray, colour: str, alpha: float, name: str,
          group: str, show: bool = True, yaxis: str = "y") -> go.Scatter:
    """A filled band between lo and hi (one closed polygon, no hover of its own)."""
    xs = list(x) + list(x[::-1])
    return go.Scatter(x=xs, y=np.concatenate([hi, lo[::-1]]), fill="toself", mode="lines",
                      line=dict(width=0), fillcolor=_rgba(colour, alpha), name=name, legendgroup=group,
                      showlegend=show, hoverinfo="skip", yaxis=yaxis)


def _months(draws: xr.Dataset) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(draws["month"].values))


def _add_fitted_rate(fig: go.Figure, rate: xr.DataArray) -> None:
    """The fitted rate over the history (chain x draw x bin): 80% band and median."""
    past = rate.stack(s=("chain", "draw")).transpose("bin", "s").values
    dates = pd.DatetimeIndex(pd.to_datetime(rate["bin"].values))
    lo, med, hi = np.quantile(past, [0.1, 0.5, 0.9], axis=1)
    fig.add_trace(_band(dates, lo, hi, OKABE_ITO[4], 0.35, "fitted rate, 80%", "fitted"))
    fig.add_trace(go.Scatter(x=dates, y=med, mode="lines", line=dict(color=OKABE_ITO[0], width=1.5),
                             name="fitted rate, median", legendgroup="fitted",
                             hovertemplate="fitted rate %{y:.1f}<extra></extra>"))


def overlay_chart(draws: xr.Dataset,
                  title: str = "Attacks per month in every scenario: median and 80% interval",
                  history: xr.DataArray | None = None, ymax: float | None = None) -> go.Figure:
    """Every scenario's monthly attacks on one chart: median and 80% band; with `history`
    (the fitted rate, chain x draw x bin), the fitted past before them; `ymax`: the initial
    top of the axis (zooming out shows the rest)."""
    months = _months(draws)
    fig = go.Figure()
    if history is not None:
        _add_fitted_rate(fig, history)
    for i, scenario in enumerate(map(str, draws["scenario"].values)):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        counts = draws["count"].sel(scenario=scenario).values
        lo, med, hi = np.quantile(counts, [0.1, 0.5, 0.9], axis=0)
        fig.add_trace(_band(months, lo, hi, colour, 0.15, f"{scenario} 80%", scenario, show=False))
        fig.add_trace(go.Scatter(
            x=months, y=med, mode="lines+markers", name=scenario, legendgroup=scenario,
            line=dict(color=colour, width=2), marker=dict(size=4), customdata=np.stack([lo, hi], axis=1),
            hovertemplate=f"{scenario}: %{{y:.0f}} (80%: %{{customdata[0]:.0f}} to %{{customdata[1]:.0f}})"
                          "<extra></extra>"))
    fig.update_layout(**LAYOUT, title=title)
    fig.update_yaxes(title="attacks per month", rangemode="tozero",
                     **({"range": [0, ymax]} if ymax is not None else {}))
    fig.update_xaxes(title="month", hoverformat="%b %Y")
    return fig


def _observation_traces(observations: pd.DataFrame) -> list[go.Scatter]:
    """Reported counts: months as markers, longer spans as a bar at their monthly mean."""
    traces = []
    for bound, (marker, colour) in BOUND_STYLE.items():
        rows = observations[observations["bound"] == bound]
        if rows.empty:
            continue
        days = (rows["end"] - rows["start"]).dt.days.to_numpy() + 1
        counts = rows["count"].to_numpy(dtype=float)
        per_month = counts * 30.4 / days
        symbol = {"o": "circle", "s": "square", "^": "triangle-up"}.get(marker, "circle")
        short = days <= 40
        mids = rows["start"] + (rows["end"] - rows["start"]) / 2
        text = [f"{r.id}: {r.count:.0f} ({bound}, {r.definition}, {r.start.date()} to {r.end.date()})"
                for r in rows.itertuples(index=False)]
        traces.append(go.Scatter(x=mids[short], y=counts[short],
                                 mode="markers", marker=dict(symbol=symbol, color=colour, size=7),
                                 name=f"reported ({bound})", legendgroup=f"obs-{bound}",
                                 hovertext=[t for t, s in zip(text, short) if s], hoverinfo="text"))
        if (~short).any():
            xs: list = []
            ys: list = []
            for start, end, value in zip(rows["start"][~short], rows["end"][~short], per_month[~short]):
                xs += [start, end, None]
                ys += [value, value, None]
            traces.append(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=3),
                                     name=f"reported ({bound}), monthly mean of a longer span",
                                     legendgroup=f"obs-{bound}", hoverinfo="skip"))
    return traces


def _event_marks(fig: go.Figure, events: list[dict[str, str]], colour: str, label: str,
                 lines: bool = True) -> None:
    """Dated events: a hover marker at the top, and (`lines`) a dotted line or, for an uncertain
    date, a shaded span."""
    if not events:
        return
    for event in events if lines else ():
        first, last = pd.Timestamp(event["first"]), pd.Timestamp(event["last"])
        if first == last:
            fig.add_vline(x=first, line=dict(color=colour, width=1, dash="dot"))
        else:
            fig.add_vrect(x0=first, x1=last, fillcolor=_rgba(colour, 0.12), line_width=0)
    fig.add_trace(go.Scatter(
        x=[pd.Timestamp(e["first"]) for e in events], y=[1.0] * len(events), yaxis="y3", mode="markers",
        marker=dict(symbol="triangle-down", size=10, color=colour), name=label,
        hovertext=[f"{e['name']} ({e['kind']})" + ("" if e["first"] == e["last"] else
                                                   f", between {e['first']} and {e['last']}")
                   for e in events], hoverinfo="text"))


def fan_chart(history_rate: xr.DataArray, dataset: Dataset, draws: xr.Dataset, scenario: str) -> go.Figure:
    """History (fitted rate), one scenario's forecast, reported counts, troops and events."""
    fig = go.Figure()
    _add_fitted_rate(fig, history_rate)
    months = _months(draws)
    counts = draws["count"].sel(scenario=scenario).values
    for level, alpha in ((0.95, 0.15), (0.8, 0.3), (0.5, 0.45)):
        flo, fhi = np.quantile(counts, [(1 - level) / 2, (1 + level) / 2], axis=0)
        fig.add_trace(_band(months, flo, fhi, OKABE_ITO[1], alpha, f"forecast {int(level * 100)}%",
                            "forecast"))
    q = np.quantile(counts, [0.1, 0.5, 0.9], axis=0)
    fig.add_trace(go.Scatter(x=months, y=q[1], mode="lines+markers", line=dict(color=OKABE_ITO[5], width=2),
                             marker=dict(size=4), name="forecast median", legendgroup="forecast",
                             customdata=q[[0, 2]].T, hovertemplate="forecast %{y:.0f} (80%: "
                             "%{customdata[0]:.0f} to %{customdata[1]:.0f})<extra></extra>"))
    for trace in _observation_traces(dataset.fitted):
        fig.add_trace(trace)
    # troops on a second axis: the data's path, then the scenario's (median and 80% band)
    if dataset.presence is not None:
        fig.add_trace(go.Scatter(x=dataset.axis.starts, y=np.asarray(dataset.presence, float), yaxis="y2",
                                 mode="lines", line=dict(color=OKABE_ITO[7], width=1, dash="dash"),
                                 name="US troops (thousands)", legendgroup="troops",
                                 hovertemplate="troops %{y:.2f} thousand<extra></extra>"))
        presence = draws["presence"].sel(scenario=scenario).values
        if np.isfinite(presence).any():
            plo, pmed, phi = np.nanquantile(presence, [0.1, 0.5, 0.9], axis=0)
            fig.add_trace(_band(months, plo, phi, OKABE_ITO[7], 0.1, "troops, 80%", "troops", show=False,
                                yaxis="y2"))
            fig.add_trace(go.Scatter(x=months, y=pmed, yaxis="y2", mode="lines",
                                     line=dict(color=OKABE_ITO[7], width=1.5, dash="dash"),
                                     name="troops, scenario median", legendgroup="troops", showlegend=False,
                                     hovertemplate="troops %{y:.2f} thousand<extra></extra>"))
    past = dataset.events[dataset.events["kind"].isin(list(MODELLED_KINDS))]
    _event_marks(fig, [{"name": str(r.name), "kind": str(r.kind), "first": str(pd.Timestamp(r.date).date()),
                        "last": str(pd.Timestamp(r.date).date())} for r in past.itertuples(index=False)],
                 OKABE_ITO[2], "past events (modelled)", lines=False)
    _event_marks(fig, json.loads(draws.attrs.get("scenario_events", "{}")).get(scenario, []),
                 OKABE_ITO[3], "scenario events")
    fig.update_layout(**LAYOUT, title=f"{scenario}: history and forecast",
                      yaxis=dict(title="attacks per month", rangemode="tozero"),
                      yaxis2=dict(title="US troops (thousands)", overlaying="y", side="right", showgrid=False,
                                  rangemode="tozero"),
                      yaxis3=dict(overlaying="y", range=[0, 1.05], visible=False, fixedrange=True),
                      xaxis=dict(title="month", hoverformat="%b %Y"))
    return fig
