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
                             f"{_start(s)} vs {first.months} from {_start(first)}); scenarios run "
                             "together must share their horizon", where="key 'horizon'")


def _start(scenario: Scenario) -> str:
    return scenario.start.date().isoformat() if scenario.start is not None else "the end of the data"


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
        attrs={"seed": seed, "model": model.name,
               "baseline": ",".join(f"{s.name}:{s.baseline or ''}" for s in scenarios)},
    )
    data["baseline"] = ("scenario", [s.baseline or "" for s in scenarios])
    data["capped_share"] = ("scenario", [r["capped_share"] for r in results],
                            {"long_name": "share of draw-months whose rate hit the cap"})
    return data
