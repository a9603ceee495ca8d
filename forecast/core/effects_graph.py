"""The PyMC graph of the modelled events, shared by both model families.

Per kind and component (pulse; level and volatility for decapitations), the groups' effects
are partially pooled: effect_g = mean + sd * z_g (non-centred), with the prior family
`<kind>_<component>` on the kind's mean and `<kind>_<component>_sd` on the spread between
groups. A scenario event not tied to a fitted group then draws a new effect from the kind's
distribution (mean + sd * N(0, 1)) instead of copying one group's draws. The decay is one
per kind. See `effects.py` for the segment arrays.
"""

from __future__ import annotations

from typing import Any

from forecast.core.effects import MODELLED_KINDS, KindDesign, Segments, components
from forecast.core.priors import Priors
from forecast.lazy import lazy_module

pm, pt = lazy_module("pymc"), lazy_module("pytensor.tensor")   # imported when a graph is built


def effect_families() -> dict[str, str]:
    """The prior families of the event effects, with their support."""
    families: dict[str, str] = {}
    for kind in MODELLED_KINDS:
        for component in components(kind):
            families[f"{kind}_{component}"] = "real"
            families[f"{kind}_{component}_sd"] = "positive"
        families[f"{kind}_decay"] = "unit"
    return families


def pooled_effect(kind: str, component: str, design: KindDesign, priors: Priors) -> Any:
    """(G,) group effects of one component, partially pooled within the kind."""
    family = f"{kind}_{component}"
    mean = priors.get(family).rv(f"{family}_mean")
    sd = priors.get(f"{family}_sd").rv(f"{family}_sd")
    z = pm.Normal(f"{family}_z", 0.0, 1.0, dims=f"{kind}_group")
    return pm.Deterministic(family, mean + sd * z, dims=f"{kind}_group")


def event_effect_graph(design: KindDesign, priors: Priors, volatility: bool) -> tuple[Any, Any]:
    """(effect on the segments' log rate, effect on the bins' log volatility or 0.0) of one kind."""
    kind, spec = design.kind, MODELLED_KINDS[design.kind]
    pulse = pooled_effect(kind, "pulse", design, priors)
    decay = priors.get(f"{kind}_decay").rv(f"{kind}_decay")
    decayed = pt.exp(design.lag * pt.log(decay)) * design.active
    effect = pt.dot(pulse[design.group_of_event], decayed)
    if spec.level:
        effect = effect + pt.dot(pooled_effect(kind, "level", design, priors)[design.group_of_event],
                                 design.after)
    log_vol = 0.0
    if volatility and spec.volatility:
        log_vol = pt.dot(pooled_effect(kind, "volatility", design, priors), design.regime)
    return effect, log_vol


def bin_sum(segments: Segments, values: Any) -> Any:
    """(T,) sum of segment values per bin (the identity when the segments are the bins)."""
    if segments.whole_bins:
        return values
    return pt.inc_subtensor(pt.zeros(segments.n_bins)[segments.bin_of], values)


def bin_log_multiplier(segments: Segments, effect: Any) -> Any:
    """(T,) log of the day-weighted mean of exp(effect) over each bin's segments."""
    if segments.whole_bins:
        return effect
    return pt.log(bin_sum(segments, segments.share * pt.exp(effect)))
