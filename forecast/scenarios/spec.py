"""Scenario files: a strict TOML schema, checked in full before any sampling.

    name = "withdrawal_2026"
    description = "US forces leave Iraq and Syria during 2026; embassy guard stays"
    baseline = "status_quo"              # the scenario this one is contrasted with

    [horizon]
    start = "2026-01"                    # first forecast month (default: right after the data)
    months = 24

    [presence]                           # US troops in Iraq + Syria, thousands
    points = [
      { date = "2026-01", value = 3.0 },
      { date = { uniform = ["2026-06", "2026-12"] }, value = 0.0 },   # uncertain date
    ]
    # ... or one path per region instead of the total (regions are the data's):
    # [presence.iraq]
    # points = [{ date = "2027-03", value = 0.0 }]

    [[events]]
    kind = "decapitation"                # a leader killed
    date = "2026-03-15"
    effect = "soleimani_2020"            # draw the effect from that fitted group ...
    # effect = { level = { normal = [0.0, 0.5] }, pulse = { normal = [0.5, 0.5] } }  # ... or a prior
    regions = ["iraq"]                   # optional: where it acts (default: every region)

    [[shocks]]
    parameter = "rate_multiplier"        # shocks the chosen model allows
    date = "2026-01"
    factor = { lognormal = [0.0, 0.3] }

Values may be numbers or distributions ({normal|uniform|lognormal|triangular = [...]});
dates may be "YYYY-MM", "YYYY-MM-DD" or {uniform = [date, date]}; a "YYYY-MM" is the month's
first day, except as an `end`, where it is the month's last day. Only states (militia_truce,
regional_war) and shocks take an `end`: a decapitation's or a US strike's effect starts on its
date and decays. Paths are linear
between points and flat after the last one; before the first point they run from the
last observed value; a region without a path keeps its last observed presence.
`check_regions` checks the region names against the data's, once the data are known.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from forecast.core.effects import MODELLED_KINDS
from forecast.data.regions import ALL, check_region_name
from forecast.errors import InputError, did_you_mean
from forecast.safeio import read_bytes

NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
MAX_HORIZON = 240
MAX_FILE_BYTES = 1_000_000
DISTRIBUTIONS = {"normal": 2, "uniform": 2, "lognormal": 2, "triangular": 3}
NONNEGATIVE_DISTS = ("uniform", "lognormal", "triangular")

TOP_KEYS = ("name", "description", "baseline", "horizon", "presence", "covariates", "events", "shocks")
HORIZON_KEYS = ("start", "months")
PATH_KEYS = ("points",)
POINT_KEYS = ("date", "value")
EVENT_KEYS = ("kind", "date", "end", "name", "effect", "regions")
EFFECT_KEYS = ("level", "pulse", "volatility")
SHOCK_KEYS = ("parameter", "date", "end", "factor", "regions")
EVENT_KINDS = ("decapitation", "us_strike", "militia_truce", "regional_war")


@dataclass(frozen=True)
class Value:
    """A number, or a distribution to draw per posterior draw."""

    dist: str | None
    args: tuple[float, ...]

    def key(self) -> str:
        return json.dumps([self.dist, self.args])


@dataclass(frozen=True)
class DateSpec:
    """A fixed date or a uniform range of dates."""

    first: pd.Timestamp
    last: pd.Timestamp

    @property
    def fixed(self) -> bool:
        return self.first == self.last

    def key(self) -> str:
        return f"{self.first.date()}..{self.last.date()}"


@dataclass(frozen=True)
class PathSpec:
    points: tuple[tuple[DateSpec, Value], ...]


@dataclass(frozen=True)
class EventSpec:
    kind: str
    date: DateSpec
    end: DateSpec | None
    name: str
    effect_group: str | None                 # draw from this fitted group
    effect_prior: dict[str, Value] | None    # or from these priors
    # where the event acts (None: every region). Not in repr, which keys the event's random
    # stream: where an effect acts does not change what is drawn, and unscoped events keep
    # the streams they had before regions existed.
    regions: tuple[str, ...] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ShockSpec:
    parameter: str
    date: DateSpec
    end: DateSpec | None
    factor: Value
    regions: tuple[str, ...] | None = field(default=None, repr=False)   # as EventSpec.regions


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    baseline: str | None
    start: pd.Timestamp | None
    months: int
    presence: PathSpec | None
    covariates: dict[str, PathSpec]
    events: tuple[EventSpec, ...]
    shocks: tuple[ShockSpec, ...]
    source: str
    sha256: str = field(default="")
    # [presence.<region>] paths; `presence` alone is the total
    presence_by_region: dict[str, PathSpec] = field(default_factory=dict)

    def key(self, part: str) -> str:
        """Stable text of one part of the scenario, to seed its random draws."""
        return hashlib.sha256(repr(getattr(self, part)).encode()).hexdigest()


class _Ctx:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> InputError:
        return InputError(self.source, message, where=f"key '{where}'")


def _check_keys(ctx: _Ctx, table: Any, allowed: tuple[str, ...], where: str, required=()) -> dict:
    if not isinstance(table, dict):
        raise ctx.fail(where or "(top level)", f"expected a table, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            raise ctx.fail(f"{where}.{key}" if where else key,
                           f"unknown key{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in table:
            raise ctx.fail(f"{where}.{key}" if where else key, "is required")
    return table


def _date(ctx: _Ctx, raw: Any, where: str, *, end: bool = False) -> DateSpec:
    """A date or a uniform range of dates. A YYYY-MM month is its first day, or its last day
    for an `end` (an event or shock that ends in March runs through 31 March)."""
    if isinstance(raw, dict):
        _check_keys(ctx, raw, ("uniform",), where, required=("uniform",))
        pair = raw["uniform"]
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ctx.fail(f"{where}.uniform", "expected [first date, last date]")
        first, last = (_date(ctx, v, f"{where}.uniform", end=end).first for v in pair)
        if last < first:
            raise ctx.fail(f"{where}.uniform", "dates are out of order (last before first)")
        return DateSpec(first, last)
    if not isinstance(raw, str) or not DATE_RE.match(raw):
        raise ctx.fail(where, f"expected a date YYYY-MM or YYYY-MM-DD, got {raw!r}")
    try:
        stamp = pd.Timestamp(raw + ("-01" if len(raw) == 7 else ""))
    except (ValueError, OverflowError):
        raise ctx.fail(where, f"{raw!r} is not a calendar date") from None
    if end and len(raw) == 7:
        stamp = stamp + pd.offsets.MonthEnd(0)
    if not pd.Timestamp("1990-01-01") <= stamp <= pd.Timestamp("2100-12-31"):
        raise ctx.fail(where, f"date {raw} is outside 1990-2100")
    return DateSpec(stamp, stamp)


def _number(ctx: _Ctx, raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ctx.fail(where, f"expected a number, got {raw!r}")
    if not math.isfinite(raw) or abs(raw) > 1e6:
        raise ctx.fail(where, f"{raw} is not a finite number of sensible size")
    return float(raw)


def _value(ctx: _Ctx, raw: Any, where: str, nonnegative: bool = False) -> Value:
    if isinstance(raw, dict):
        if len(raw) != 1:
            raise ctx.fail(where, f"a distribution is one of {', '.join(DISTRIBUTIONS)} = [parameters]")
        (dist, args), = raw.items()
        if dist not in DISTRIBUTIONS:
            raise ctx.fail(f"{where}.{dist}", f"unknown distribution{did_you_mean(dist, DISTRIBUTIONS)}; "
                           f"known: {', '.join(DISTRIBUTIONS)}")
        if not isinstance(args, list) or len(args) != DISTRIBUTIONS[dist]:
            raise ctx.fail(f"{where}.{dist}", f"expects {DISTRIBUTIONS[dist]} numbers")
        nums = tuple(_number(ctx, a, f"{where}.{dist}") for a in args)
        if dist in ("normal", "lognormal") and nums[1] <= 0:
            raise ctx.fail(f"{where}.{dist}", "the standard deviation must be > 0")
        if dist == "uniform" and not nums[0] < nums[1]:
            raise ctx.fail(f"{where}.{dist}", "needs lower < upper")
        if dist == "triangular" and not nums[0] <= nums[1] <= nums[2] or (dist == "triangular"
                                                                        and nums[0] == nums[2]):
            raise ctx.fail(f"{where}.{dist}", "needs lower <= mode <= upper with lower < upper")
        if nonnegative and (dist not in NONNEGATIVE_DISTS or (dist != "lognormal" and nums[0] < 0)):
            raise ctx.fail(f"{where}.{dist}", "must not go below 0: use uniform, triangular (lower >= 0) "
                           "or lognormal")
        return Value(dist, nums)
    number = _number(ctx, raw, where)
    if nonnegative and number < 0:
        raise ctx.fail(where, f"must not be negative, got {number:g}")
    return Value(None, (number,))


def _path(ctx: _Ctx, raw: Any, where: str, nonnegative: bool) -> PathSpec:
    table = _check_keys(ctx, raw, PATH_KEYS, where, required=PATH_KEYS)
    points = table["points"]
    if not isinstance(points, list) or not points:
        raise ctx.fail(f"{where}.points", "expected a non-empty list of {date, value} points")
    if len(points) > 1000:
        raise ctx.fail(f"{where}.points", "more than 1000 points")
    parsed = []
    for i, point in enumerate(points):
        here = f"{where}.points[{i}]"
        _check_keys(ctx, point, POINT_KEYS, here, required=POINT_KEYS)
        parsed.append((_date(ctx, point["date"], f"{here}.date"),
                       _value(ctx, point["value"], f"{here}.value", nonnegative)))
    for i in range(1, len(parsed)):
        if parsed[i][0].first < parsed[i - 1][0].last:
            raise ctx.fail(f"{where}.points[{i}].date", "dates are out of order (each point must come "
                           "after the previous one, ranges included)")
    return PathSpec(tuple(parsed))


def _presence(ctx: _Ctx, raw: Any) -> tuple[PathSpec | None, dict[str, PathSpec]]:
    """[presence] points (the total), or [presence.<region>] tables, one per region."""
    if not isinstance(raw, dict):
        raise ctx.fail("presence", f"expected a table, got {type(raw).__name__}")
    total = _path(ctx, {"points": raw["points"]}, "presence", True) if "points" in raw else None
    regional = {}
    for key, value in raw.items():
        if key == "points":
            continue
        if not isinstance(value, dict):
            raise ctx.fail(f"presence.{key}", f"unknown key{did_you_mean(key, PATH_KEYS)}; [presence] has "
                           "points (the total) or tables [presence.<region>] with points")
        check_region_name(key, ctx.source, f"key 'presence.{key}'")
        regional[key] = _path(ctx, value, f"presence.{key}", True)
    if total is not None and regional:
        raise ctx.fail("presence", "give either [presence] points (the total) or [presence.<region>] "
                       "tables, not both: the total follows from the regions")
    if total is None and not regional:
        raise ctx.fail("presence", "expected points = [...] (the total) or tables [presence.<region>]")
    return total, regional


def _regions(ctx: _Ctx, table: dict, where: str) -> tuple[str, ...] | None:
    """An event's or shock's optional `regions = ["iraq", ...]`."""
    if "regions" not in table:
        return None
    raw = table["regions"]
    if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
        raise ctx.fail(f"{where}.regions", 'expected a non-empty list of region names, e.g. ["iraq"]')
    if len(set(raw)) != len(raw):
        raise ctx.fail(f"{where}.regions", "names a region twice")
    for name in raw:
        check_region_name(name, ctx.source, f"key '{where}.regions'")
    return tuple(raw)


def _event(ctx: _Ctx, raw: Any, where: str) -> EventSpec:
    table = _check_keys(ctx, raw, EVENT_KEYS, where, required=("kind", "date"))
    kind = table["kind"]
    if kind not in EVENT_KINDS:
        raise ctx.fail(f"{where}.kind", f"unknown event kind {kind!r}{did_you_mean(str(kind), EVENT_KINDS)}"
                       f"; scenario events can be {', '.join(EVENT_KINDS)}")
    date = _date(ctx, table["date"], f"{where}.date")
    if "end" in table and not MODELLED_KINDS[kind].ends_with_event:
        raise ctx.fail(f"{where}.end", f"a {kind} is an act whose effect starts on its date and "
                       "decays; it does not end with an end date, which would be ignored. Remove "
                       "'end' (for a state that ends, such as a truce or a war, use militia_truce "
                       "or regional_war)")
    end = _date(ctx, table["end"], f"{where}.end", end=True) if "end" in table else None
    if end is not None and end.first < date.last:
        raise ctx.fail(f"{where}.end", "the end comes before the start")
    name = table.get("name", f"scenario_{kind}")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ctx.fail(f"{where}.name", "expected a name of letters, digits, _ or - (at most 64)")
    effect = table.get("effect")
    group, prior = None, None
    if isinstance(effect, str):
        group = effect
    elif isinstance(effect, dict):
        _check_keys(ctx, effect, EFFECT_KEYS, f"{where}.effect", required=("pulse",))
        prior = {k: _value(ctx, v, f"{where}.effect.{k}") for k, v in effect.items()}
        if kind != "decapitation" and set(prior) - {"pulse"}:
            raise ctx.fail(f"{where}.effect", f"a {kind} event has only a pulse; level and volatility "
                           "belong to decapitations")
    elif effect is not None:
        raise ctx.fail(f"{where}.effect", "expected a fitted group name or a table of priors")
    return EventSpec(kind, date, end, name, group, prior, _regions(ctx, table, where))


def _shock(ctx: _Ctx, raw: Any, where: str) -> ShockSpec:
    table = _check_keys(ctx, raw, SHOCK_KEYS, where, required=("parameter", "date", "factor"))
    parameter = table["parameter"]
    if not isinstance(parameter, str):
        raise ctx.fail(f"{where}.parameter", "expected a parameter name")
    date = _date(ctx, table["date"], f"{where}.date")
    end = _date(ctx, table["end"], f"{where}.end", end=True) if "end" in table else None
    if end is not None and end.first < date.last:
        raise ctx.fail(f"{where}.end", "the end comes before the start")
    return ShockSpec(parameter, date, end, _value(ctx, table["factor"], f"{where}.factor", True),
                     _regions(ctx, table, where))


def parse_scenario(text: str, source: str) -> Scenario:
    ctx = _Ctx(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(source, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(source, "tables or arrays are nested too deeply to be a scenario file") from None
    _check_keys(ctx, data, TOP_KEYS, "", required=("name", "horizon"))
    name = data["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ctx.fail("name", "expected a name of letters, digits, _ or - (at most 64 characters)")
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        raise ctx.fail("description", "expected text of at most 2000 characters")
    baseline = data.get("baseline")
    if baseline is not None and (not isinstance(baseline, str) or not NAME_RE.match(baseline)):
        raise ctx.fail("baseline", "expected the name of another scenario")
    horizon = _check_keys(ctx, data["horizon"], HORIZON_KEYS, "horizon", required=("months",))
    months = horizon["months"]
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_HORIZON:
        raise ctx.fail("horizon.months", f"expected a whole number of months from 1 to {MAX_HORIZON}")
    start = _date(ctx, horizon["start"], "horizon.start").first if "start" in horizon else None
    presence, presence_by_region = _presence(ctx, data["presence"]) if "presence" in data else (None, {})
    covariates = {}
    raw_cov = data.get("covariates", {})
    if not isinstance(raw_cov, dict):
        raise ctx.fail("covariates", "expected tables [covariates.NAME] with points")
    for cov_name, raw in raw_cov.items():
        covariates[cov_name] = _path(ctx, raw, f"covariates.{cov_name}", False)
    events = data.get("events", [])
    shocks = data.get("shocks", [])
    for key, items in (("events", events), ("shocks", shocks)):
        if not isinstance(items, list) or len(items) > 100:
            raise ctx.fail(key, f"expected a list ([[{key}]] tables) of at most 100")
    return Scenario(
        name=name, description=description, baseline=baseline, start=start, months=months,
        presence=presence, covariates=covariates,
        events=tuple(_event(ctx, e, f"events[{i}]") for i, e in enumerate(events)),
        shocks=tuple(_shock(ctx, s, f"shocks[{i}]") for i, s in enumerate(shocks)),
        source=source, sha256=hashlib.sha256(text.encode()).hexdigest(),
        presence_by_region=presence_by_region,
    )


def regional_keys(scenario: Scenario) -> list[str]:
    """The scenario's keys that act per region ([presence.<region>], scoped events and shocks)."""
    keys = [f"presence.{name}" for name in scenario.presence_by_region]
    keys += [f"events[{i}].regions" for i, e in enumerate(scenario.events) if e.regions is not None]
    keys += [f"shocks[{i}].regions" for i, s in enumerate(scenario.shocks) if s.regions is not None]
    return keys


def check_regions(scenario: Scenario, regions: Sequence[str], regional_model: bool = False) -> None:
    """Every region the scenario names must be one of the data's `regions` ("did you mean").

    Until a model simulates each region (`regional_model`), per-region keys are refused:
    a model of the total would silently ignore them.
    """
    regions = list(regions)
    named = [(f"presence.{n}", n) for n in scenario.presence_by_region]
    for part, items in (("events", scenario.events), ("shocks", scenario.shocks)):
        named += [(f"{part}[{i}].regions", n) for i, item in enumerate(items) for n in item.regions or ()]
    for key, name in named:
        if regions == [ALL]:
            raise InputError(scenario.source, f"the data name no regions, so a scenario cannot name "
                             f"region {name!r}" + ("; use [presence] for the total"
                                                  if key.startswith("presence") else ""),
                             where=f"key '{key}'")
        if name not in regions:
            raise InputError(scenario.source, f"unknown region {name!r}{did_you_mean(name, regions)}; the "
                             f"data have regions {', '.join(regions)}", where=f"key '{key}'")
    keys = regional_keys(scenario)
    if keys and not regional_model:
        raise InputError(scenario.source, "this model forecasts the total of the regions, so a per-region "
                         "path or scope cannot act yet; use [presence] for the total and leave out "
                         "'regions'", where=f"key '{keys[0]}'")


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    raw = read_bytes(path, MAX_FILE_BYTES, "scenario .toml file")
    try:
        # a byte-order mark is accepted, as the CSV reader accepts it
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    return parse_scenario(text, str(path))


def load_scenarios(paths: list[str | Path], baselines_required: bool = True) -> list[Scenario]:
    """Load several files and check them as a set (unique names, baselines present).

    `baselines_required=False` (validating files alone): a baseline that is not among the
    files is not an error; one that is must still be another scenario.
    """
    if not paths:
        raise InputError("command line", "no scenario files given")
    scenarios = [load_scenario(p) for p in paths]
    names = [s.name for s in scenarios]
    for s in scenarios:
        if names.count(s.name) > 1:
            raise InputError(s.source, f"scenario name {s.name!r} is used by more than one file",
                             where="key 'name'")
        if s.baseline is not None and s.baseline not in names and baselines_required:
            raise InputError(s.source, f"baseline {s.baseline!r} is not among the scenarios given"
                             f"{did_you_mean(s.baseline, names)}; pass its file too", where="key 'baseline'")
        if s.baseline == s.name:
            raise InputError(s.source, "a scenario cannot be its own baseline", where="key 'baseline'")
    return scenarios
