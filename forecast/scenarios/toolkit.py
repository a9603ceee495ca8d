"""What every model's forward simulation shares: the horizon, the background log rate.

The background of a scenario is the log rate before any model-specific dynamics: intercept,
presence path, covariate paths, the data's own events carried forward (pulses decay, levels
stay) and the scenario's events, plus the shocks as log factors from their dates. It is
computed draw by draw (vectorised over draws, (D, H) arrays). Uncertain dates and values
are drawn from streams keyed by the run seed and the text of what is drawn, so identical
specifications give identical draws in every scenario of a run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.effects import (
    MODELLED_KINDS,
    DrawnEvent,
    KindDesign,
    day_of,
    drawn_bin_log_effects,
    effect_log_rate,
    kind_designs,
    segments_for,
    share_after,
)
from forecast.data.dataset import Dataset
from forecast.data.regions import ALL
from forecast.errors import InputError, MissingCapability, did_you_mean
from forecast.scenarios.paths import draw_day, draw_value, path_bin_means, stream
from forecast.scenarios.spec import (
    EventSpec,
    Scenario,
    ShockSpec,
    check_regions,
    parse_scenario,
    regional_keys,
)
from forecast.timeaxis import TimeAxis

# Rates are capped far above anything seen (the record month had 53 attacks) so that the
# heavy lognormal tail cannot overflow the count draws; the share of capped draws is reported.
# No published statistic depends on it (quantiles and probabilities only; scripts/stability.py
# reruns a fit's scenarios with the cap at 1e3 and 1e7 to show it).
RATE_CAP = 1e5



@dataclass
class Draws:
    """Posterior draws flattened to (D,) or (D, k) numpy arrays."""

    post: xr.Dataset

    @classmethod
    def from_posterior(cls, posterior: xr.Dataset) -> Draws:
        return cls(posterior.stack(sample=("chain", "draw")).transpose("sample", ...))

    @property
    def n(self) -> int:
        return self.post.sizes["sample"]

    def get(self, name: str) -> np.ndarray:
        return np.asarray(self.post[name].values, dtype=float)

    def has(self, name: str) -> bool:
        return name in self.post


@dataclass
class Horizon:
    history: TimeAxis
    future: TimeAxis        # from the bin after the data through the horizon's end
    first_reported: int     # index in `future` of the scenario's first month

    @classmethod
    def for_scenario(cls, history: TimeAxis, scenario: Scenario) -> Horizon:
        first_future = history.next_start()
        start = scenario.start if scenario.start is not None else first_future
        gap = history.extend(1).index_of(start) if start >= first_future else -1
        if gap < 0:
            raise InputError(scenario.source, f"horizon starts {start.date()}, inside the data (which "
                             f"ends {history.ends[-1].date()}); start at {first_future.date()} or later",
                             where="key 'horizon.start'")
        if gap > 240:
            raise InputError(scenario.source, "horizon starts more than 240 bins after the data",
                             where="key 'horizon.start'")
        return cls(history, history.extend(gap + scenario.months), gap)


@dataclass
class Background:
    """A scenario's log background rate and shocks over the future bins, each (D, H)."""

    horizon: Horizon
    presence: np.ndarray | None
    log_rate: np.ndarray
    log_volatility: np.ndarray                  # effects on the latent volatility (latent AR only)
    log_shocks: dict[str, np.ndarray]           # summed log factors per shock parameter
    drawn: list[DrawnEvent]                     # the scenario's own events, per draw

    def span_share(self, rate: np.ndarray, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """(D,) expected count inside the days [start, end] given the future bins' rates (D, H).

        Inside a bin the rate follows the scenario's events day by day (a war from the 28th
        puts its weight on the last days), as the fit's segments do for the history.
        """
        future = self.horizon.future
        n = rate.shape[0]
        full = drawn_bin_log_effects(future, self.drawn, n)
        window = (day_of(start), day_of(end) + 1)
        inside = drawn_bin_log_effects(future, self.drawn, n, window=window)
        with np.errstate(invalid="ignore"):
            share = np.where(np.isfinite(inside), np.exp(inside - full), 0.0)
        return (rate * share).sum(axis=1)


class ScenarioSimulator:
    """Checks scenarios against one fitted model and computes their background."""

    rate_cap: float = RATE_CAP

    def __init__(self, model, posterior: xr.Dataset | None) -> None:
        """`posterior` may be None to check scenarios before any fit exists."""
        self.model = model
        self.dataset = model.dataset
        self.draws = Draws.from_posterior(posterior) if posterior is not None else None
        # the data's own events act identically in every scenario of a run: computed once per horizon
        self._history_cache: dict[tuple[pd.Timestamp, int], tuple[np.ndarray, np.ndarray]] = {}
        self._noise_cache: dict[tuple, list[np.ndarray]] = {}

    # ---------------------------------------------------------------- checks
    def check(self, scenario: Scenario) -> None:
        """Everything that can be wrong with a scenario for this fit, before simulating."""
        ds = self.dataset
        # region names against the data's; per-region keys only for a model that simulates regions
        check_regions(scenario, ds.regions, regional_model=True)
        # a model of the total takes [presence.<region>] paths as the change of the total they
        # make (total_presence_from_regions); an event or shock scoped to regions it cannot place
        keys = [k for k in regional_keys(scenario)
                if not (k.startswith("presence.") and ds.presence is not None)]
        if keys and not self.model.regional:
            raise MissingCapability(scenario.source, f"model '{self.model.name}' forecasts the total of the "
                                    "regions, so an event or shock scoped to regions cannot act|; leave out "
                                    "'regions'", where=f"key '{keys[0]}'", capability="regions")
        if scenario.presence is not None and ds.presence is None:
            raise InputError(scenario.source, "this data has no presence covariate, so a presence path "
                             "cannot act", where="key 'presence'")
        known = list(ds.covariates.columns)
        for name in scenario.covariates:
            if name not in known:
                raise InputError(scenario.source, f"unknown covariate {name!r}{did_you_mean(name, known)}"
                                 f"; the data has: {', '.join(known) or 'none'}"
                                 + (" (presence has its own [presence] table)" if name == "presence" else ""),
                                 where=f"key 'covariates.{name}'")
        horizon = Horizon.for_scenario(ds.axis, scenario)
        first_day = day_of(horizon.future.starts[0])
        for path_name, path in [("presence", scenario.presence),
                                *((f"presence.{r}", v) for r, v in scenario.presence_by_region.items()),
                                *((f"covariates.{k}", v) for k, v in scenario.covariates.items())]:
            if path is None:
                continue
            for i, (date, _) in enumerate(path.points):
                if day_of(date.first) < first_day:
                    raise InputError(scenario.source, f"point date {date.first.date()} is before the "
                                     f"forecast starts ({horizon.future.starts[0].date()})",
                                     where=f"key '{path_name}.points[{i}].date'")
        for i, event in enumerate(scenario.events):
            if day_of(event.date.first) < first_day:
                raise InputError(scenario.source, f"event date {event.date.first.date()} is before the "
                                 "forecast starts", where=f"key 'events[{i}].date'")
            self._event_group(scenario, event, i)
            prior = event.effect_prior or {}
            if "volatility" in prior and not self.model.volatility_effects:
                raise MissingCapability(scenario.source, f"model '{self.model.name}' has no latent "
                                        "volatility, so an effect on it cannot act|",
                                        where=f"key 'events[{i}].effect.volatility'",
                                        capability="volatility")
        for i, shock in enumerate(scenario.shocks):
            if shock.parameter not in self.model.shocks:
                allowed = self.model.shocks
                raise MissingCapability(scenario.source, f"model '{self.model.name}' has no shock "
                                        f"{shock.parameter!r}|. This model allows: {', '.join(allowed)}",
                                        where=f"key 'shocks[{i}].parameter'",
                                        capability="shock:" + shock.parameter,
                                        hint=did_you_mean(shock.parameter, allowed))

    def _event_group(self, scenario: Scenario, event: EventSpec, index: int) -> str | None:
        fitted = {d.kind: d.groups for d in self.model.kinds}
        where = f"key 'events[{index}].effect'"
        if event.kind not in fitted:
            raise InputError(scenario.source, f"the data has no {event.kind} events, so the fit has no "
                             f"decay for a {event.kind} pulse; fitted kinds: {', '.join(fitted) or 'none'}",
                             where=f"key 'events[{index}].kind'")
        if event.effect_prior is not None:
            return None
        groups = fitted.get(event.kind, [])
        if event.effect_group is None:
            return None          # a new event: its effect is drawn from the kind's distribution
        if event.effect_group not in groups:
            raise InputError(scenario.source, f"no fitted {event.kind} group {event.effect_group!r}"
                             f"{did_you_mean(event.effect_group, groups)}; fitted groups: "
                             f"{', '.join(groups) or 'none'}", where=where)
        return event.effect_group

    # ------------------------------------------------------------ background
    def background(self, scenario: Scenario, seed: int) -> Background:
        """The scenario's log background rate, volatility effects and shocks, each (D, H)."""
        self.check(scenario)
        ds, draws = self.dataset, self.draws
        horizon = Horizon.for_scenario(ds.axis, scenario)
        future = horizon.future
        n, h = draws.n, future.n
        start_day = day_of(ds.axis.ends[-1])
        presence = None
        if ds.presence is not None:
            last = np.full(n, ds.presence[-1])
            if scenario.presence_by_region:
                presence = self.total_presence_from_regions(scenario, future, seed)
            elif scenario.presence is None:
                presence = np.repeat(last[:, None], h, axis=1)
            else:
                presence = path_bin_means(scenario.presence, future, last, start_day, seed,
                                          "presence:" + scenario.key("presence"))
        covariates = self.covariate_paths(scenario, future, start_day, seed)
        log_rate = self.log_mean(presence, covariates, h)
        effects, log_vol = self._historical_effects(future)
        log_rate = log_rate + effects
        drawn, log_vol = self.scenario_events(scenario, future, seed, log_vol)
        log_rate = log_rate + drawn_bin_log_effects(future, drawn, n)
        log_shocks = {name: np.zeros((n, h)) for name in self.model.shocks}
        for shock in scenario.shocks:
            log_shocks[shock.parameter] += self.shock_log_factor(shock, future, seed)
        return Background(horizon, presence, log_rate, log_vol, log_shocks, drawn)

    def region_presence(self, scenario: Scenario, future: TimeAxis, seed: int) -> np.ndarray | None:
        """(D, H, R) presence per region: the region's [presence.<region>] path, else its last
        value held (data without regions: the one region's [presence] path)."""
        ds = self.dataset
        if ds.presence is None or ds.presence_by_region is None:
            return None
        by_region = np.asarray(ds.presence_by_region, float)
        n, start_day = self.draws.n, day_of(ds.axis.ends[-1])
        paths = []
        for j, region in enumerate(ds.regions):
            last = np.full(n, by_region[-1, j])
            path, key = scenario.presence_by_region.get(region), None
            if path is not None:
                key = f"presence.{region}:" + hashlib.sha256(repr(path).encode()).hexdigest()
            elif region == ALL and scenario.presence is not None:
                # data without regions: [presence] is the one region's (drawn as the total is)
                path, key = scenario.presence, "presence:" + scenario.key("presence")
            if path is None:
                paths.append(np.repeat(last[:, None], future.n, axis=1))
            else:
                paths.append(path_bin_means(path, future, last, start_day, seed, key))
        return np.stack(paths, axis=-1)

    def total_presence_from_regions(self, scenario: Scenario, future: TimeAxis, seed: int) -> np.ndarray:
        """(D, H) the total presence a model of the total sees under [presence.<region>] paths:
        the data's last total changed by what the paths change in the regions the reference
        count covers (bundled: Iraq + Syria; a move to Jordan leaves it where it is)."""
        ds = self.dataset
        by_region = self.region_presence(scenario, future, seed)
        last = np.asarray(ds.presence_by_region, float)[-1]
        change = ((by_region - last[None, None, :]) * ds.reference_regions()[None, None, :]).sum(axis=2)
        return np.maximum(float(ds.presence[-1]) + change, 0.0)

    def covariate_paths(self, scenario: Scenario, future: TimeAxis, start_day: int,
                        seed: int) -> list[np.ndarray]:
        """(D, H) path of each covariate of the data: the scenario's, else its last value held."""
        ds, n = self.dataset, self.draws.n
        covariates = []
        for col in ds.covariates.columns:
            last = np.full(n, ds.covariates[col].iloc[-1])
            if col in scenario.covariates:
                covariates.append(path_bin_means(scenario.covariates[col], future, last, start_day, seed,
                                                 f"cov:{col}:" + repr(scenario.covariates[col])))
            else:
                covariates.append(np.repeat(last[:, None], future.n, axis=1))
        return covariates

    def scenario_events(self, scenario: Scenario, future: TimeAxis, seed: int,
                        log_vol: np.ndarray) -> tuple[list[DrawnEvent], np.ndarray]:
        """The scenario's events per draw (in file order), and the log volatility they leave."""
        drawn = []
        for i, event in enumerate(scenario.events):
            event_draws, vol = self._scenario_event(scenario, event, i, seed)
            drawn.append(event_draws)
            if vol is not None:
                # a killing opens a new volatility regime from its day (regimes replace each other)
                after = share_after(future, event_draws.day)
                log_vol = log_vol * (1.0 - after) + vol[:, None] * after
        return drawn, log_vol

    def shock_log_factor(self, shock: ShockSpec, future: TimeAxis, seed: int) -> np.ndarray:
        """(D, H) log factor of one shock over the future bins (by the share of each bin it covers)."""
        n = self.draws.n
        rng = stream(seed, "shock:" + repr(shock))
        dates = draw_day(shock.date, n, rng)
        ends = draw_day(shock.end, n, rng) if shock.end is not None else None
        factor = draw_value(shock.factor, n, rng)
        active = share_after(future, dates, ends)
        return np.log(np.maximum(factor, 1e-12))[:, None] * active

    def log_mean(self, presence: np.ndarray | None, covariates: list[np.ndarray], h: int) -> np.ndarray:
        """(D, H) log background before events: intercept, presence and covariates.

        The numpy twin of the graph's mean structure (checked by the families' parity tests).
        """
        draws, model = self.draws, self.model
        log_rate = self.log_intercept()[:, None] * np.ones((1, h))
        if presence is not None:
            with np.errstate(divide="ignore"):
                log_p = np.log(presence / model.presence_ref)
            log_rate = log_rate + draws.get("elasticity")[:, None] * np.where(presence > 0, log_p, 0.0)
        if covariates:
            beta = draws.get("beta")
            for j, x in enumerate(covariates):
                log_rate = log_rate + beta[:, j, None] * (x - model.cov_mean[j]) / model.cov_sd[j]
        return log_rate

    def history_log_background(self, first_bin: int = 0) -> np.ndarray:
        """(D, bins) log mean structure over the data's own bins from `first_bin`, events included."""
        ds, n = self.dataset, self.draws.n
        hist = ds.axis
        presence = None if ds.presence is None else np.tile(np.asarray(ds.presence, float), (n, 1))
        covariates = [np.tile(ds.covariates[c].to_numpy(float), (n, 1)) for c in ds.covariates.columns]
        log_rate = self.log_mean(presence, covariates, hist.n)
        if self.model.kinds:                     # the designs the graph was built from
            segment_effect = sum(self._kind_effect(design) for design in self.model.kinds)
            log_rate = log_rate + self.model.segments.bin_log_sum(segment_effect)
        return log_rate[:, first_bin:]

    def _kind_effect(self, design: KindDesign) -> np.ndarray:
        """(D, segments of the design) one event kind's effect on the log rate, from the draws."""
        level = self.draws.get(f"{design.kind}_level") if MODELLED_KINDS[design.kind].level else None
        return effect_log_rate(design, level, self.draws.get(f"{design.kind}_pulse"),
                               self.draws.get(f"{design.kind}_decay"))

    def common_noise(self, seed: int, shape: tuple[int, int], names: tuple[str, ...]) -> list[np.ndarray]:
        """The run's common random numbers, in order: "normal" or "uniform" arrays of `shape`.

        The same for every scenario of a run (that is what pairs them), so drawn once.
        """
        key = (seed, shape, names)
        if key not in self._noise_cache:
            common = stream(seed, "common")
            noise = [common.standard_normal(shape) if name == "normal" else common.random(shape)
                     for name in names]
            for array in noise:   # shared by every scenario: no simulation may write into it
                array.flags.writeable = False
            self._noise_cache[key] = noise
        return self._noise_cache[key]

    def log_intercept(self) -> np.ndarray:
        """(D,) log background rate at typical presence, before covariates and events."""
        return self.draws.get("intercept")

    @staticmethod
    def outputs(background: Background, rate: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
        """The reported months of a simulation: rate, count, presence, labels, capped share."""
        horizon = background.horizon
        n, h = rate.shape
        keep = slice(horizon.first_reported, None)
        presence = background.presence
        out = {"rate": rate[:, keep], "count": counts[:, keep].astype(np.int64)}
        out["presence"] = (presence if presence is not None else np.full((n, h), np.nan))[:, keep]
        out["labels"] = np.array(horizon.future.labels[horizon.first_reported:])
        out["capped_share"] = float((out["rate"] >= ScenarioSimulator.rate_cap).mean())
        out["future_rate"] = rate          # every future bin (the gap before the horizon too)
        out["background"] = background
        return out

    def _historical_effects(self, future: TimeAxis) -> tuple[np.ndarray, np.ndarray]:
        """Effects of the data's events carried into the future (pulses decay, levels stay)."""
        key = (future.start, future.n)
        if key not in self._history_cache:
            self._history_cache[key] = self._compute_historical_effects(future)
        return self._history_cache[key]

    def _compute_historical_effects(self, future: TimeAxis) -> tuple[np.ndarray, np.ndarray]:
        hist = self.dataset.axis
        combined = TimeAxis(hist.freq, hist.start, hist.n + future.n)
        n = self.draws.n
        effect = np.zeros((n, future.n))
        vol = np.zeros((n, future.n))
        designs = kind_designs(self.dataset.events, combined)
        if designs:
            segments = segments_for(self.dataset.events, combined).restricted(hist.n)
            ahead = [design.bins_from(hist.n) for design in designs]
            effect = segments.bin_log_sum(sum(self._kind_effect(design) for design in ahead))
            for design in ahead:
                if MODELLED_KINDS[design.kind].volatility and self.model.volatility_effects:
                    vol += self.draws.get(f"{design.kind}_volatility") @ design.regime
        return effect, vol

    def _scenario_event(self, scenario: Scenario, event: EventSpec, index: int,
                        seed: int) -> tuple[DrawnEvent, np.ndarray | None]:
        """The event's days and effects per draw, and its volatility regime (None if it has none)."""
        n = self.draws.n
        rng = stream(seed, "event:" + repr(event))
        dates = draw_day(event.date, n, rng)
        stops = None
        if event.end is not None and MODELLED_KINDS[event.kind].ends_with_event:
            stops = draw_day(event.end, n, rng) + 1
        group = self._event_group(scenario, event, index)
        kind = event.kind
        spec = MODELLED_KINDS[kind]
        # keyed by position too: two identical new events of one scenario are two draws
        new_effect = stream(seed, f"new effect:{index}:" + repr(event))

        def component(name: str) -> np.ndarray:
            if group is not None:
                groups = [d.groups for d in self.model.kinds if d.kind == kind][0]
                return self.draws.get(f"{kind}_{name}")[:, groups.index(group)]
            prior = event.effect_prior
            if prior is not None:
                return draw_value(prior[name], n, rng) if name in prior else np.zeros(n)
            # a new event of the kind: its own draw from the kind's distribution
            mean, sd = self.draws.get(f"{kind}_{name}_mean"), self.draws.get(f"{kind}_{name}_sd")
            return mean + sd * new_effect.standard_normal(n)

        decay = self.draws.get(f"{kind}_decay")  # check() made sure the kind was fitted
        drawn = DrawnEvent(day=dates, stop=stops, pulse=component("pulse"), decay=decay,
                           level=component("level") if spec.level else None)
        vol = None
        if spec.volatility and self.model.volatility_effects:
            # a stated prior without a volatility keeps the current regime; otherwise the
            # killing opens its own (the group's, a new draw, or the stated one)
            if event.effect_prior is None or "volatility" in event.effect_prior:
                vol = component("volatility")
        return drawn, vol


def _path_toml(name: str, dates_values: list[tuple[str, float]]) -> str:
    pts = ", ".join(f'{{ date = "{d}", value = {v!r} }}' for d, v in dates_values)
    return f"[{name}]\npoints = [{pts}]\n"


def observed_scenario(dataset: Dataset, origin: int, months: int, by_region: bool = False) -> Scenario:
    """Status quo from the origin with the observed presence/covariate paths, no new events.

    `by_region`: each region's observed presence as a [presence.<region>] path (for a model
    that simulates regions) instead of the total.
    """
    axis = dataset.axis
    idx = range(origin, origin + months)

    def flat(values: np.ndarray) -> list[tuple[str, float]]:
        # a point on the first and last day of each bin: the path is flat at the observed value
        out = []
        for i in idx:
            v = float(values[i])
            out += [(axis.starts[i].strftime("%Y-%m-%d"), v), (axis.ends[i].strftime("%Y-%m-%d"), v)]
        return out

    text = (f'name = "backtest_{axis.labels[origin]}"\n'
            f'[horizon]\nstart = "{axis.starts[origin].strftime("%Y-%m-%d")}"\nmonths = {months}\n')
    if by_region and dataset.regional and dataset.presence_by_region is not None:
        for j, region in enumerate(dataset.regions):
            text += _path_toml(f"presence.{region}", flat(np.asarray(dataset.presence_by_region)[:, j]))
    elif dataset.presence is not None:
        text += _path_toml("presence", flat(np.asarray(dataset.presence)))
    for col in dataset.covariates.columns:
        text += _path_toml(f"covariates.{col}", flat(dataset.covariates[col].to_numpy()))
    return parse_scenario(text, f"backtest origin {axis.labels[origin]}")
