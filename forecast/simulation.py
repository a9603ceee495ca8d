"""Simulate a set of scenarios from one posterior into one xarray Dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.config import RunConfig
from forecast.data.dataset import Dataset
from forecast.errors import InputError, MissingCapability
from forecast.families import Family, families_with, make_family
from forecast.scenarios.spec import DateSpec, Scenario, load_scenario, load_scenarios
from forecast.scenarios.toolkit import Horizon, ScenarioSimulator


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


def prepare_scenarios(config: RunConfig, alone: bool = False) -> tuple[list[Scenario], Dataset, list[Family]]:
    """Load and check scenario files, data and model: everything that can fail before sampling.

    `alone` (validating files): a baseline that is not among the files is checked when its
    file lies beside the scenario (`<baseline>.toml`), and otherwise left unchecked.
    """
    config.check()
    config.check_files()
    scenarios = load_scenarios(list(config.scenarios), baselines_required=not alone)
    if alone:
        scenarios = scenarios + _baselines_beside(scenarios)
    dataset = config.data.load()
    families = [make_family(name, dataset, config.priors) for name in config.model_names]
    for family in families:
        check_scenarios(family, scenarios)
    return scenarios, dataset, families


def _baselines_beside(scenarios: list[Scenario]) -> list[Scenario]:
    """The files of baselines not given, where they lie beside the scenario that names them."""
    names = {s.name for s in scenarios}
    found: list[Scenario] = []
    for s in scenarios:
        if s.baseline is None or s.baseline in names:
            continue
        path = Path(s.source).parent / f"{s.baseline}.toml"
        if path.is_file():
            baseline = load_scenario(path)
            if baseline.name == s.baseline:
                found.append(baseline)
                names.add(baseline.name)
    return found


def horizon_warnings(scenario: Scenario, dataset: Dataset) -> list[str]:
    """Dates of events, shocks and path points that lie (or may lie) after the horizon's end.

    Not errors: an event after the horizon simply has no effect, a point after it shapes the
    path only up to the horizon's end. Dates before the start are errors (`check`).
    """
    horizon = Horizon.for_scenario(dataset.axis, scenario)
    end = horizon.future.ends[-1]
    last_month = horizon.future.labels[-1]

    def after(date: DateSpec) -> str | None:
        if date.first > end:
            return f"{date.first.date()} is after the horizon ends ({last_month})"
        if date.last > end:
            return f"{date.first.date()}..{date.last.date()} may fall after the horizon ends ({last_month})"
        return None

    found: list[str] = []
    for i, event in enumerate(scenario.events):
        if (why := after(event.date)) is not None:
            found.append(f"events[{i}].date {why}: the event has no effect then")
    for i, shock in enumerate(scenario.shocks):
        if (why := after(shock.date)) is not None:
            found.append(f"shocks[{i}].date {why}: the shock has no effect then")
    paths = [("presence", scenario.presence),
             *((f"presence.{r}", v) for r, v in scenario.presence_by_region.items()),
             *((f"covariates.{k}", v) for k, v in scenario.covariates.items())]
    for name, path in paths:
        for i, (date, _) in enumerate(path.points if path is not None else ()):
            if (why := after(date)) is not None:
                found.append(f"{name}.points[{i}].date {why}: only the path up to then is used")
    return found


def scenario_events(scenario: Scenario) -> list[dict[str, str]]:
    """A scenario's events and shocks as dated records (a range when the date is uncertain)."""
    out = [{"name": e.name, "kind": e.kind, "first": str(e.date.first.date()),
            "last": str(e.date.last.date())} for e in scenario.events]
    out += [{"name": f"{s.parameter} shock", "kind": "shock", "first": str(s.date.first.date()),
             "last": str(s.date.last.date())} for s in scenario.shocks]
    return out


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
    labels = list(results[0]["labels"])
    # datetime months (as in posterior.nc); the text labels ride along for the tables
    coords = {"scenario": [s.name for s in scenarios], "draw": np.arange(simulator.draws.n),
              "month": pd.to_datetime(labels), "month_label": ("month", labels)}

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
    if "rate_by_region" in results[0] and len(results[0]["regions"]) > 1:
        # data without regions (the one region 'all') keep the tables of a model of the total
        add_regions(data, results)
    data["baseline"] = ("scenario", [s.baseline or "" for s in scenarios])
    # what the report shows beside the numbers: each scenario's words and its dated events
    data["description"] = ("scenario", [s.description.strip() for s in scenarios])
    data.attrs["scenario_events"] = json.dumps({s.name: scenario_events(s) for s in scenarios})
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
