"""Scenario draws as a long table in the hubverse layout (Scenario Modeling Hubs, forecast hubs).

One row per task and output: the task columns `origin_date` (first day of the first forecast
month), `scenario_id`, `target`, `horizon` (months ahead, 1 = the first forecast month),
`target_end_date` (last day of that month) and `location` (a region, or "total" for all the
counted attacks), then `output_type` ("quantile" or "sample"), `output_type_id` (the quantile
level, or the sample's id) and `value` (attacks in that month). The same sample id is the
same posterior draw in every month and every scenario, so a sample is a joint trajectory and
samples are paired across scenarios (the run's common random numbers). `output_type_id`
holds numbers of two kinds, so it is text ("0.5", "17"), as hubs store it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from forecast.errors import InputError

# the quantile levels the CDC and scenario hubs ask for
DEFAULT_QUANTILES = (0.01, 0.025, *np.round(np.arange(0.05, 0.951, 0.05), 2), 0.975, 0.99)
DEFAULT_SAMPLES = 100
TARGET = "inc attacks"
COLUMNS = ["origin_date", "scenario_id", "target", "horizon", "target_end_date", "location",
           "output_type", "output_type_id", "value"]
REGION_DIM = "region"


def parse_quantiles(text: str) -> tuple[float, ...]:
    """"0.025,0.5,0.975" -> sorted unique levels strictly between 0 and 1."""
    try:
        levels = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError("command line", f"--quantiles {text!r}: expected numbers separated by commas, "
                         "e.g. 0.025,0.1,0.5,0.9,0.975") from None
    if not levels or not all(0 < q < 1 for q in levels):
        raise InputError("command line", f"--quantiles {text!r}: levels must lie strictly between 0 and 1")
    return tuple(sorted(set(levels)))


def sample_draws(n_draws: int, samples: int) -> np.ndarray:
    """Evenly spaced draw indices (the same for every scenario and month, so trajectories pair)."""
    if samples <= 0:
        return np.array([], dtype=int)
    return np.unique(np.linspace(0, n_draws - 1, min(samples, n_draws)).round().astype(int))


def _locations(counts: xr.DataArray) -> dict[str, np.ndarray]:
    """location -> (draw, month) counts: each region when the draws have them, and the total."""
    if REGION_DIM in counts.dims:
        out = {str(r): counts.sel({REGION_DIM: r}).transpose("draw", "month").values
               for r in counts[REGION_DIM].values}
        out["total"] = counts.sum(REGION_DIM).transpose("draw", "month").values
        return out
    return {"total": counts.transpose("draw", "month").values}


def hubverse_table(draws: xr.Dataset, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                   samples: int = DEFAULT_SAMPLES) -> pd.DataFrame:
    """The long table of every scenario, location and month (see the module docstring)."""
    months = pd.DatetimeIndex(pd.to_datetime(draws["month"].values))
    freq_days = (months[1] - months[0]).days if len(months) > 1 else 31
    ends = months + (pd.Timedelta(days=6) if freq_days == 7 else pd.offsets.MonthEnd(0))
    horizon = np.arange(1, len(months) + 1)
    levels = np.asarray(quantiles, dtype=float)
    chosen = sample_draws(draws.sizes["draw"], samples)
    frames = []
    for scenario in map(str, draws["scenario"].values):
        for location, counts in _locations(draws["count"].sel(scenario=scenario)).items():
            q = np.quantile(counts, levels, axis=0)                       # (levels, months)
            frames.append(pd.DataFrame({
                "scenario_id": scenario, "location": location, "output_type": "quantile",
                "horizon": np.tile(horizon, len(levels)),
                "output_type_id": np.repeat([f"{v:g}" for v in levels], len(months)),
                "value": q.ravel()}))
            if chosen.size:
                frames.append(pd.DataFrame({
                    "scenario_id": scenario, "location": location, "output_type": "sample",
                    "horizon": np.tile(horizon, chosen.size),
                    "output_type_id": np.repeat([str(i) for i in chosen], len(months)),
                    "value": counts[chosen].ravel().astype(float)}))
    table = pd.concat(frames, ignore_index=True)
    table["origin_date"] = months[0].date().isoformat()
    table["target"] = TARGET
    table["target_end_date"] = [ends[h - 1].date().isoformat() for h in table["horizon"]]
    return table[COLUMNS]
