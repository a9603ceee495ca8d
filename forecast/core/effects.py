"""Dated interventions from the events table, as arrays over time bins.

Each modelled event kind acts on the log rate as a decaying pulse
`size * decay^(bins since the event) * share of the bin on or after the event`;
for kinds that are states rather than acts (a truce, a war), the pulse stops at the
event's end date when it has one. Decapitations also shift the level permanently and
may change the volatility of the latent process from their date on. Events of one
(kind, name) group share their parameters; the decay is shared by a whole kind.
Other kinds (elections, diplomacy, troop changes, ...) are context: troop changes act
through the presence covariate, the rest are shown in reports but not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecast.timeaxis import TimeAxis


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


@dataclass(frozen=True)
class KindDesign:
    """Arrays for one modelled kind: E events over T bins, grouped into G groups."""

    kind: str
    groups: list[str]
    group_of_event: np.ndarray   # (E,) int index into groups
    lag: np.ndarray              # (E, T) bins since the event's bin (0 where inactive)
    active: np.ndarray           # (E, T) share of the bin in which the pulse acts
    after: np.ndarray            # (E, T) share of the bin on or after the event (level)
    first_after: np.ndarray      # (G, T) share of the bin on or after the group's first event

    def bins_from(self, start: int) -> KindDesign:
        """The same design restricted to bins start.. (e.g. the forecast part of an axis)."""
        return replace(self, lag=self.lag[:, start:], active=self.active[:, start:],
                       after=self.after[:, start:], first_after=self.first_after[:, start:])


def event_arrays(axis: TimeAxis, date: pd.Timestamp, end: pd.Timestamp | None,
                 ends_with_event: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lag, active share, after share) of one event over the bins of `axis`."""
    after = axis.fraction_after(date)
    if ends_with_event and end is not None and not pd.isna(end):
        active = axis.span_weights(date, end)
    else:
        active = after
    lag = np.clip(axis.bins_since(date), 0, None).astype(float)
    return lag, active, after


def kind_designs(events: pd.DataFrame, axis: TimeAxis) -> list[KindDesign]:
    """Designs for the modelled kinds that occur in `events` (in registry order)."""
    out = []
    for kind, spec in MODELLED_KINDS.items():
        rows = events[events["kind"] == kind].sort_values("date", kind="stable")
        if rows.empty:
            continue
        groups = list(dict.fromkeys(rows["name"]))
        arrays = [event_arrays(axis, r.date, r.end_date, spec.ends_with_event)
                  for r in rows.itertuples()]
        lag, active, after = (np.vstack(a) for a in zip(*arrays))
        group_idx = np.array([groups.index(n) for n in rows["name"]])
        first_after = np.vstack([after[np.flatnonzero(group_idx == g)[0]] for g in range(len(groups))])
        out.append(KindDesign(kind, groups, group_idx, lag, active, after, first_after))
    return out


def effect_log_rate(design: KindDesign, level: np.ndarray | None, pulse: np.ndarray,
                    decay: np.ndarray) -> np.ndarray:
    """Numpy version of the kind's contribution to the log rate, vectorised over draws.

    level, pulse: (D, G) per group; decay: (D,). Returns (D, T).
    """
    pulse_e = pulse[:, design.group_of_event]                       # (D, E)
    decayed = decay[:, None, None] ** design.lag[None]              # (D, E, T)
    total = np.einsum("de,det->dt", pulse_e, decayed * design.active[None])
    if level is not None:
        total = total + level[:, design.group_of_event] @ design.after
    return total
