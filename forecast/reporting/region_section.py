"""The report's section per region, for draws of a regional family: which regions make the
total, each region's horizon totals and contrasts (from the same tables as totals.csv and
contrasts.csv), and each region's scenarios on one chart."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import xarray as xr

from forecast.reporting import interactive, plots
from forecast.reporting.html import Figures, png_bytes
from forecast.reporting.html import table as _table
from forecast.scenarios import summaries


def total_rows(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows of the total (a table without a `region` column is all total)."""
    if table is None or "region" not in table.columns:
        return table
    return table[table["region"] == summaries.TOTAL].drop(columns="region").reset_index(drop=True)


def region_rows(table: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of the regions themselves (none for a table without a `region` column)."""
    if table is None or "region" not in table.columns:
        return pd.DataFrame()
    return table[table["region"] != summaries.TOTAL].reset_index(drop=True)


def _interval(median: float, lo: float, hi: float, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return f"{median:{sign},.0f} ({lo:{sign},.0f} to {hi:{sign},.0f})"


def _totals_wide(totals: pd.DataFrame) -> pd.DataFrame:
    """Scenario x region: median total and 80% interval."""
    cells = totals.assign(cell=[_interval(r["median"], r["q10"], r["q90"]) for _, r in totals.iterrows()])
    wide = cells.pivot(index="scenario", columns="region", values="cell")
    return wide[list(dict.fromkeys(totals["region"]))].reset_index()


def _contrasts_wide(contrasts: pd.DataFrame) -> pd.DataFrame:
    """Scenario x region: median difference, 80% interval and P(fewer than the baseline)."""
    cells = contrasts.assign(cell=[
        _interval(r["diff_median"], r["diff_q10"], r["diff_q90"], signed=True)
        + f"; P(fewer) {r['p_fewer_than_baseline']:.2f}" for _, r in contrasts.iterrows()])
    wide = cells.pivot(index=["scenario", "baseline"], columns="region", values="cell")
    return wide[list(dict.fromkeys(contrasts["region"]))].reset_index()


HISTORY_BINS = 36


def region_section(draws: xr.Dataset, totals: pd.DataFrame, contrasts: pd.DataFrame,
                   figures: Figures, history: xr.DataArray | None = None) -> str:
    """The section, or '' when the draws have no regions. `totals` and `contrasts` carry the
    `region` column (the total's rows included); `history`: the posterior's `rate_by_region`
    (chain x draw x region x bin), drawn before the forecasts; figures get one PNG per region."""
    if "count_by_region" not in draws or "region" not in totals.columns or (
            len(contrasts) and "region" not in contrasts.columns):
        return ""
    regions = [str(r) for r in draws["region"].values]
    in_total = str(draws.attrs.get("total_regions", "")).split("+")
    outside = [r for r in regions if r not in in_total]
    parts = ["<h2>By region</h2>",
             f"<p>The model forecasts each region ({', '.join(map(html.escape, regions))}) with its own "
             "troop presence and level and one shared activity process; the footprint effect is shared. "
             f"The total above is {' + '.join(map(html.escape, in_total))}, the regions the reference "
             "count covers"
             + (f"; {', '.join(map(html.escape, outside))} is forecast beside it, not in it"
                if outside else "")
             + ". A region without US forces has no attacks on them. Medians and 80% intervals over "
             "the horizon; the rows 'total' repeat the tables above.</p>",
             _table(_totals_wide(totals), download="totals.csv", data=totals)]
    if len(contrasts):
        parts += ["<p>Each scenario against its baseline, region by region (paired draw by draw): "
                  "median difference in attacks, 80% interval, and P(fewer attacks than the "
                  "baseline).</p>",
                  _table(_contrasts_wide(contrasts), download="contrasts.csv", data=contrasts)]
    parts.append("<p class='note'>Each region's fan chart: the fitted rate over the last three years "
                 "(grey) and the attacks per month in every scenario (median and 80% interval). Linear "
                 "axes, cut at 1.5 times the forecasts' highest 80% bound, so a past war's peak may run "
                 "off the top (double-click the chart to see all of it).</p>")
    for label, one in summaries.series(draws, regions=True)[1:]:
        title = f"{label}: fitted rate, then attacks per month in every scenario (median, 80%)"
        # the last three years of the history: enough to see where the forecasts start from
        past = None if history is None else history.sel(region=label).isel(bin=slice(-HISTORY_BINS, None))
        # the axis at the forecasts' scale: a past war's peak would flatten them
        top = 1.5 * max(float(np.quantile(one["count"].values, 0.9, axis=1).max()), 1.0)
        figures.files[f"overlay_{label}.png"] = png_bytes(plots.overlay_chart(one, title=title, history=past,
                                                                               ymax=top))
        parts.append(interactive.div(interactive.overlay_chart(one, title=title, history=past, ymax=top),
                                     f"overlay-{label}", height=460))
    return "".join(parts)
