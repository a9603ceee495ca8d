"""Dated interventions from the events table, at day resolution inside the time bins.

The latent dynamics of the models are monthly (or weekly), but events happen on days: a
war that starts on the 28th or a five-day truce changes the rate for those days only. So
the bins are cut into *segments* at every event's first day (and, for kinds that are
states, the day after its end); inside a segment the rate is flat. Each event kind acts on
the log rate of a segment as

    pulse * decay^(lag) * active  (+ level * after, for decapitations)

where `after` is 1 on and after the event's day, `active` is 1 while the pulse acts (until
the end of a state such as a truce or a war), and `lag` is the time from the event to the
segment's midpoint in units of the mean bin length (30.44 days for months), so a pulse
decays the same way whatever day of the month the event falls on. A bin's rate is the sum
of its segments' rates; an observation's expected count integrates the segments' rates over
its exact days. Decapitations may also set the volatility of the latent process: each
killing opens a volatility regime that lasts until the next one (regimes replace each other;
they do not compound).

Events of one (kind, name) group share their effects; the groups of a kind are exchangeable
draws from the kind's distribution (`effects_graph.py`), so a new event in a scenario draws
its own effect. Other kinds (elections, diplomacy, troop changes, ...) are context: troop
changes act through the presence covariate, the rest are shown in reports but not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecast.timeaxis import TimeAxis

EPOCH = pd.Timestamp("1970-01-01")
# mean bin length in days: the unit of the pulse decay's lag
MEAN_BIN_DAYS = {"month": 365.25 / 12, "week": 7.0}


@dataclass(frozen=True)
class EffectKind:
    level: bool
    pulse: bool
    volatility: bool
    ends_with_event: bool


MODELLED_KINDS: dict[str, EffectKind] = {
    "decapitation": EffectKind(level=True, pulse=True, volatility=True, ends_with_event=False),
    "us_strike": EffectKind(level=False, pulse=True, volatility=False, ends_with_event=False),
    "militia_truce": EffectKind(level=False, pulse=True, volatility=False, ends_with_event=True),
    "regional_war": EffectKind(level=False, pulse=True, volatility=False, ends_with_event=True),
}


def components(kind: str) -> list[str]:
    """The effect components of a kind: 'pulse', plus 'level' and 'volatility' where it has them."""
    spec = MODELLED_KINDS[kind]
    return ["pulse"] + (["level"] if spec.level else []) + (["volatility"] if spec.volatility else [])


def day_of(date: pd.Timestamp) -> int:
    """Days since 1970-01-01."""
    return int((pd.Timestamp(date) - EPOCH).days)


def bin_day_bounds(axis: TimeAxis) -> tuple[np.ndarray, np.ndarray]:
    """(first day, day after the last day) of each bin, as day numbers."""
    return (np.array([day_of(d) for d in axis.starts]), np.array([day_of(d) + 1 for d in axis.ends]))


@dataclass(frozen=True)
class Segments:
    """The bins of an axis cut at given days; a segment is [first, stop) in day numbers."""

    first: np.ndarray       # (S,) first day
    stop: np.ndarray        # (S,) day after the last day
    bin_of: np.ndarray      # (S,) bin index, ascending
    share: np.ndarray       # (S,) days of the segment / days of its bin
    n_bins: int
    unit: float             # mean bin length in days (the lag unit)

    @classmethod
    def of(cls, axis: TimeAxis, cuts: Iterable[int] = ()) -> Segments:
        """Segments of `axis` cut at the day numbers `cuts` (a cut is a segment's first day)."""
        firsts, stops = bin_day_bounds(axis)
        inner = sorted({int(c) for c in cuts if firsts[0] < c < stops[-1]} - set(firsts.tolist()))
        edges = np.unique(np.concatenate([firsts, inner, stops[-1:]]))
        first, stop = edges[:-1], edges[1:]
        bin_of = np.searchsorted(firsts, first, side="right") - 1
        days = (stops - firsts)[bin_of]
        return cls(first, stop, bin_of, (stop - first) / days, axis.n, MEAN_BIN_DAYS[axis.freq])

    @property
    def n(self) -> int:
        return len(self.first)

    @property
    def whole_bins(self) -> bool:
        """True when no cut falls inside a bin (segments are the bins)."""
        return self.n == self.n_bins

    def labels(self) -> list[str]:
        """The first day of each segment, 'YYYY-MM-DD'."""
        return [str(d) for d in (EPOCH + pd.to_timedelta(self.first, unit="D")).strftime("%Y-%m-%d")]

    @property
    def mid(self) -> np.ndarray:
        return (self.first + self.stop) / 2.0

    def weights(self, starts: Iterable[pd.Timestamp], ends: Iterable[pd.Timestamp]) -> np.ndarray:
        """(rows, S) share of each segment's days inside each inclusive span [start, end]."""
        lo = np.array([day_of(s) for s in starts], dtype=float)[:, None]
        hi = np.array([day_of(e) + 1 for e in ends], dtype=float)[:, None]
        covered = np.minimum(hi, self.stop[None]) - np.maximum(lo, self.first[None])
        return np.clip(covered, 0.0, None) / (self.stop - self.first)[None]

    def bin_log_sum(self, log_values: np.ndarray) -> np.ndarray:
        """(..., T) log of the share-weighted sum of exp(values) over each bin's segments."""
        weighted = log_values + np.log(self.share)
        if self.whole_bins:
            return weighted
        starts = np.flatnonzero(np.r_[True, np.diff(self.bin_of) > 0])
        top = np.maximum.reduceat(weighted, starts, axis=-1)
        summed = np.add.reduceat(np.exp(weighted - np.repeat(top, np.diff(np.r_[starts, self.n]), axis=-1)),
                                 starts, axis=-1)
        return top + np.log(summed)

    def restricted(self, first_bin: int) -> Segments:
        keep = self.bin_of >= first_bin
        return replace(self, first=self.first[keep], stop=self.stop[keep],
                       bin_of=self.bin_of[keep] - first_bin, share=self.share[keep],
                       n_bins=self.n_bins - first_bin)


def event_cuts(events: pd.DataFrame) -> list[int]:
    """The days at which modelled events change the rate: first days, and the day after a state ends."""
    cuts: list[int] = []
    for row in events.itertuples():
        spec = MODELLED_KINDS.get(row.kind)
        if spec is None:
            continue
        cuts.append(day_of(row.date))
        if spec.ends_with_event and row.end_date is not None and not pd.isna(row.end_date):
            cuts.append(day_of(row.end_date) + 1)
    return cuts


@dataclass(frozen=True)
class KindDesign:
    """Arrays for one modelled kind: E events over S segments (T bins), grouped into G groups."""

    kind: str
    groups: list[str]
    group_of_event: np.ndarray   # (E,) int index into groups
    segments: Segments
    lag: np.ndarray              # (E, S) lag of the segment's midpoint after the event, in bins
    active: np.ndarray           # (E, S) 1 where the pulse acts
    after: np.ndarray            # (E, S) 1 on or after the event (the level)
    regime: np.ndarray           # (G, T) share of each bin in which group g's killing is the latest

    def bins_from(self, start: int) -> KindDesign:
        """The same design restricted to bins start.. (e.g. the forecast part of an axis)."""
        keep = self.segments.bin_of >= start
        return replace(self, segments=self.segments.restricted(start), lag=self.lag[:, keep],
                       active=self.active[:, keep], after=self.after[:, keep], regime=self.regime[:, start:])


def _event_arrays(segments: Segments, day: int, end: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lag, active, after) of one event over the segments; `end` is the day after a state ends."""
    after = (segments.first >= day).astype(float)
    active = after if end is None else after * (segments.first < end)
    lag = np.clip(segments.mid - day, 0.0, None) / segments.unit * after
    return lag, active, after


def _regimes(axis: TimeAxis, first_days: list[int]) -> np.ndarray:
    """(G, T) share of each bin whose latest group start (in `first_days`) is group g's."""
    firsts, stops = bin_day_bounds(axis)

    def share_from(day: float) -> np.ndarray:
        return np.clip(stops - np.maximum(firsts, day), 0, None) / (stops - firsts)

    order = np.argsort(first_days, kind="stable")
    regime = np.zeros((len(first_days), axis.n))
    for rank, g in enumerate(order):
        following = first_days[order[rank + 1]] if rank + 1 < len(order) else np.inf
        regime[g] = share_from(first_days[g]) - (share_from(following) if np.isfinite(following) else 0.0)
    return regime


def kind_designs(events: pd.DataFrame, axis: TimeAxis) -> list[KindDesign]:
    """Designs for the modelled kinds that occur in `events` (in registry order), on shared segments."""
    segments = Segments.of(axis, event_cuts(events))
    out = []
    for kind, spec in MODELLED_KINDS.items():
        rows = events[events["kind"] == kind].sort_values("date", kind="stable")
        if rows.empty:
            continue
        groups = list(dict.fromkeys(rows["name"]))
        arrays = []
        for r in rows.itertuples():
            end = None
            if spec.ends_with_event and r.end_date is not None and not pd.isna(r.end_date):
                end = day_of(r.end_date) + 1
            arrays.append(_event_arrays(segments, day_of(r.date), end))
        lag, active, after = (np.vstack(a) for a in zip(*arrays))
        group_idx = np.array([groups.index(n) for n in rows["name"]])
        first_days = [day_of(rows["date"].iloc[int(np.flatnonzero(group_idx == g)[0])])
                      for g in range(len(groups))]
        out.append(KindDesign(kind, groups, group_idx, segments, lag, active, after,
                              _regimes(axis, first_days)))
    return out


def segments_for(events: pd.DataFrame, axis: TimeAxis) -> Segments:
    """The segments every design of `events` on `axis` shares."""
    return Segments.of(axis, event_cuts(events))


def effect_log_rate(design: KindDesign, level: np.ndarray | None, pulse: np.ndarray,
                    decay: np.ndarray) -> np.ndarray:
    """Numpy version of the kind's contribution to the segments' log rate, vectorised over draws.

    level, pulse: (D, G) per group; decay: (D,). Returns (D, S).
    """
    pulse_e = pulse[:, design.group_of_event]                       # (D, E)
    decayed = np.exp(np.log(decay)[:, None, None] * design.lag[None])   # (D, E, S)
    total = np.einsum("de,des->ds", pulse_e, decayed * design.active[None])
    if level is not None:
        total = total + level[:, design.group_of_event] @ design.after
    return total


@dataclass(frozen=True)
class DrawnEvent:
    """An event of a scenario, per draw: its day, the day after it ends (states), its effects."""

    day: np.ndarray                 # (D,) day numbers
    stop: np.ndarray | None         # (D,) day after the end, or None (acts from its day on)
    pulse: np.ndarray               # (D,)
    decay: np.ndarray               # (D,)
    level: np.ndarray | None        # (D,)


def drawn_bin_log_effects(axis: TimeAxis, events: list[DrawnEvent], n_draws: int,
                          window: tuple[int, int] | None = None) -> np.ndarray:
    """(D, T) log multiplier of each bin's rate from events whose days differ draw by draw.

    Each bin of each draw is cut at the events' days (at most two per event), the effects
    are summed per segment, and the segments' exp(effect) averaged by their days: the same
    arithmetic as the graph's fixed segments, with the cuts drawn. With `window` = (first
    day, day after the last), only the days inside it count (still divided by the whole
    bin's days): the bin's expected count inside the window is then the bin's rate without
    events times exp(this); bins outside the window give -inf.
    """
    firsts, stops = (b.astype(float) for b in bin_day_bounds(axis))
    if window is None:
        out = np.zeros((n_draws, axis.n))
    else:
        inside = np.clip(np.minimum(stops, window[1]) - np.maximum(firsts, window[0]), 0, None)
        with np.errstate(divide="ignore"):
            out = np.tile(np.log(inside / (stops - firsts)), (n_draws, 1))
    if not events:
        return out
    unit = MEAN_BIN_DAYS[axis.freq]
    bounds = np.column_stack([e.day for e in events] + [e.stop for e in events if e.stop is not None]
                             ).astype(float)                                   # (D, K)
    for t in range(axis.n):
        lo, hi = firsts[t], stops[t]
        inner = np.sort(np.clip(bounds, lo, hi), axis=1)
        edges = np.concatenate([np.full((n_draws, 1), lo), inner, np.full((n_draws, 1), hi)], axis=1)
        length = np.diff(edges, axis=1)                                         # (D, K+1)
        if window is not None:
            length = np.clip(np.minimum(edges[:, 1:], window[1]) - np.maximum(edges[:, :-1], window[0]),
                             0.0, None)
        mid = (edges[:, :-1] + edges[:, 1:]) / 2.0
        start = edges[:, :-1]
        effect = np.zeros_like(mid)
        for e in events:
            after = start >= e.day[:, None]
            active = after if e.stop is None else after & (start < e.stop[:, None])
            lag = np.clip(mid - e.day[:, None], 0.0, None) / unit
            effect += np.where(active, e.pulse[:, None] * np.exp(np.log(e.decay)[:, None] * lag), 0.0)
            if e.level is not None:
                effect += np.where(after, e.level[:, None], 0.0)
        with np.errstate(divide="ignore"):
            weighted = effect + np.log(length / (hi - lo))
        top = weighted.max(axis=1, keepdims=True)
        if not np.isfinite(top).any():
            continue                                     # no day of this bin inside the window
        with np.errstate(invalid="ignore"):
            out[:, t] = top[:, 0] + np.log(np.exp(weighted - top).sum(axis=1))
    return out


def share_after(axis: TimeAxis, days: np.ndarray, ends: np.ndarray | None = None) -> np.ndarray:
    """(D, T) share of each bin on or after each draw's day (through its inclusive end, if given)."""
    firsts, stops = (b.astype(float) for b in bin_day_bounds(axis))
    until = stops[None] if ends is None else np.minimum(stops[None], ends[:, None].astype(float) + 1)
    covered = until - np.maximum(firsts[None], days[:, None].astype(float))
    return np.clip(covered, 0.0, None) / (stops - firsts)[None]
