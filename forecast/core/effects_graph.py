"""The PyMC graph of the modelled events, shared by both model families.

Per kind and component (pulse; level and volatility for decapitations), the groups' effects
are partially pooled: effect_g = mean + sd * z_g (non-centred), with the prior family
`<kind>_<component>` on the kind's mean and `<kind>_<component>_sd` on the spread between
groups. A scenario event not tied to a fitted group then draws a new effect from the kind's
distribution (mean + sd * N(0, 1)) instead of copying one group's draws. The decay is one
per kind. A kind with a single group is sampled in another, equivalent parametrisation
(`_single_group_effect`): the same prior and posterior, without the mean/spread ridge.
See `effects.py` for the segment arrays.
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
    mean_prior = priors.get(family)
    if len(design.groups) == 1 and mean_prior.dist == "Normal":
        sd = priors.get(f"{family}_sd").rv(f"{family}_sd")
        return _single_group_effect(family, kind, mean_prior.params["mu"], mean_prior.params["sigma"], sd)
    # several groups, or a user's non-Normal mean prior (no closed-form conditional): non-centred
    mean = mean_prior.rv(f"{family}_mean")
    sd = priors.get(f"{family}_sd").rv(f"{family}_sd")
    z = pm.Normal(f"{family}_z", 0.0, 1.0, dims=f"{kind}_group")
    return pm.Deterministic(family, mean + sd * z, dims=f"{kind}_group")


def _single_group_effect(family: str, kind: str, mu: float, sigma: float, sd: Any) -> Any:
    """(1,) effect of a kind's only group: the same joint law of (mean, sd, effect) as
    mean ~ N(mu, sigma), effect = mean + sd * z, sampled as effect | sd, then mean | effect, sd.

    With one group, mean and sd * z form a ridge in the posterior that only their sum (the
    effect the data see) identifies; the sampler crawls along it. Integrating the mean out
    gives effect | sd ~ N(mu, sigma^2 + sd^2), which the data inform directly, and the mean
    given (effect, sd) is the normal-normal conditional, independent of the data: the
    posterior is the same model's, and `<family>_mean` stays for new events' effects.
    """
    z_effect = pm.Normal(f"{family}_marginal_z", 0.0, 1.0, dims=f"{kind}_group")
    effect = pm.Deterministic(family, mu + pt.sqrt(sigma**2 + sd**2) * z_effect, dims=f"{kind}_group")
    # precision 1/sigma^2 + 1/sd^2, written with variances so that sd -> 0 stays finite
    var_mean, var_sd = sigma**2, sd**2
    total = var_mean + var_sd
    centre = (mu * var_sd + effect[0] * var_mean) / total
    z_mean = pm.Normal(f"{family}_mean_z", 0.0, 1.0)
    pm.Deterministic(f"{family}_mean", centre + pt.sqrt(var_mean * var_sd / total) * z_mean)
    return effect


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
