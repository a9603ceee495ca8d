"""Simulate a set of scenarios from one posterior into one xarray Dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.errors import InputError, MissingCapability
from forecast.families import Family, families_with
from forecast.scenarios.spec import Scenario
from forecast.scenarios.toolkit import ScenarioSimulator


def check_horizons(scenarios: list[Scenario]) -> None:
    """All scenarios of a run share one horizon, so draws line up month by month."""
    first = scenarios[0]
    for s in scenarios[1:]:
        if (s.start, s.months) != (first.start, first.months):
            raise InputError(s.source, f"horizon differs from {first.source} ({s.months} months from "
                             f"{s.start or 'the end of the data'} vs {first.months} from "
                             f"{first.start or 'the end of the data'}); scenarios run together must "
                             "share their horizon", where="key 'horizon'")


def check_scenarios(family: Family, scenarios: list[Scenario],
                    simulator: ScenarioSimulator | None = None) -> None:
    """Everything that can be wrong with the scenarios for this family, before any sampling."""
    check_horizons(scenarios)
    checker = simulator or family.simulator(None)
    for scenario in scenarios:
        try:
            checker.check(scenario)
        except MissingCapability as exc:
            raise exc.with_owners(families_with(exc.capability)) from None


def simulate_scenarios(model: Family, posterior: xr.Dataset, scenarios: list[Scenario],
                       seed: int) -> xr.Dataset:
    """Every scenario simulated from the same draws with common random numbers."""
    simulator = model.simulator(posterior)
    check_scenarios(model, scenarios, simulator)
    results = [simulator.simulate(s, seed) for s in scenarios]
    for scenario, result in zip(scenarios, results):
        # finiteness before anything is written: an exp overflow (a shock factor or an effect
        # prior far too wide) gives inf x 0 = NaN rates, and NaN counts cast to the minimum integer
        bad = ~np.isfinite(result["rate"]) | (result["count"] < 0)
        if bad.any():
            raise InputError(scenario.source, f"the simulation overflowed in {bad.mean():.1%} of "
                             "draw-months (rates not finite): a shock factor or effect prior of this "
                             "scenario is too wide to simulate (e.g. a lognormal with a huge sigma). "
                             "Nothing was written")
    months = results[0]["labels"]
    coords = {"scenario": [s.name for s in scenarios], "draw": np.arange(simulator.draws.n),
              "month": list(months)}

    def stack(key: str) -> np.ndarray:
        return np.stack([r[key] for r in results])

    data = xr.Dataset(
        {
            "rate": (("scenario", "draw", "month"), stack("rate"),
                     {"long_name": "expected attacks per month", "units": "attacks/month"}),
            "count": (("scenario", "draw", "month"), stack("count"),
                      {"long_name": "simulated attacks per month", "units": "attacks"}),
            "presence": (("scenario", "draw", "month"), stack("presence"),
                         {"long_name": "US troops in Iraq and Syria", "units": "thousands"}),
        },
        coords=coords,
        attrs={"seed": seed, "model": model.name, "chains": int(posterior.sizes.get("chain", 1)),
               "baseline": ",".join(f"{s.name}:{s.baseline or ''}" for s in scenarios)},
    )
    if "rate_by_region" in results[0]:
        add_regions(data, results)
    data["baseline"] = ("scenario", [s.baseline or "" for s in scenarios])
    data["capped_share"] = ("scenario", [r["capped_share"] for r in results],
                            {"long_name": "share of draw-months whose rate hit the cap"})
    return data


REGION_VARIABLES = ("rate_by_region", "count_by_region", "presence_by_region")


def add_regions(data: xr.Dataset, results: list[dict[str, np.ndarray]]) -> None:
    """A regional family's draws per region (dimension `region`); `rate`, `count` and `presence`
    stay the total over the regions the reference definition counts (attribute `total_regions`)."""
    dims = ("scenario", "draw", "month", "region")
    data.coords["region"] = [str(r) for r in results[0]["regions"]]
    data["rate_by_region"] = (dims, np.stack([r["rate_by_region"] for r in results]),
                              {"long_name": "expected attacks per month in the region",
                               "units": "attacks/month"})
    data["count_by_region"] = (dims, np.stack([r["count_by_region"] for r in results]),
                               {"long_name": "simulated attacks per month in the region", "units": "attacks"})
    data["presence_by_region"] = (dims, np.stack([r["presence_by_region"] for r in results]),
                                  {"long_name": "US troops in the region", "units": "thousands"})
    data.attrs["total_regions"] = "+".join(str(r) for r in results[0]["total_regions"])
    for name in ("rate", "count", "presence"):
        data[name].attrs["regions"] = data.attrs["total_regions"]
