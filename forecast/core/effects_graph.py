"""The PyMC graph of the modelled events, shared by both model families.

Per kind: one pulse (and, for decapitations, one level and one volatility change) per
event group, a decay shared by the kind; see `effects.py` for the arrays.
"""

from __future__ import annotations

from typing import Any

from forecast.core.effects import MODELLED_KINDS, KindDesign
from forecast.core.priors import Priors
from forecast.lazy import lazy_module

pm, pt = lazy_module("pymc"), lazy_module("pytensor.tensor")   # imported when a graph is built


def group_members(families: dict[str, str], kinds: list[KindDesign]) -> dict[str, list[str]]:
    """Event groups may refine per-group priors (e.g. [decapitation_level.soleimani_2020]);
    the decay is per kind."""
    groups = {d.kind: d.groups for d in kinds}
    out: dict[str, list[str]] = {}
    for family in families:
        for kind in MODELLED_KINDS:
            if family.startswith(kind + "_") and not family.endswith("_decay"):
                out[family] = groups.get(kind, [])
    return out


def event_effect_graph(design: KindDesign, priors: Priors, volatility: bool) -> tuple[Any, Any]:
    """(effect on the log rate over the bins, effect on the log volatility or 0.0) of one kind."""
    kind, spec = design.kind, MODELLED_KINDS[design.kind]
    dims = f"{kind}_group"

    def per_group(component: str) -> Any:
        family = f"{kind}_{component}"
        parts = [priors.get(family, g).rv(f"{family}__{g}") for g in design.groups]
        return pm.Deterministic(family, pt.stack(parts), dims=dims)

    pulse = per_group("pulse")
    decay = priors.get(f"{kind}_decay").rv(f"{kind}_decay")
    decayed = pt.exp(design.lag * pt.log(decay)) * design.active
    effect = pt.dot(pulse[design.group_of_event], decayed)
    if spec.level:
        effect = effect + pt.dot(per_group("level")[design.group_of_event], design.after)
    log_vol = 0.0
    if volatility and spec.volatility:
        log_vol = pt.dot(per_group("volatility"), design.first_after)
    return effect, log_vol
