"""The registry of model families: the one place that lists them.

Adding a family: a folder beside `latent_ar/`, `hawkes/` and `regional_ar/` (graph, simulator,
`priors.toml`, README) and one line in FAMILIES. Everything else asks the family
(`forecast/families/base.py` lists what it must provide).
"""

from __future__ import annotations

from pathlib import Path

from forecast.data.dataset import Dataset
from forecast.errors import InputError, did_you_mean
from forecast.families.base import Family
from forecast.families.hawkes.graph import HawkesModel, HawkesPowerLawModel
from forecast.families.latent_ar.graph import LatentARModel
from forecast.families.regional_ar.graph import RegionalARModel

FAMILIES: dict[str, type[Family]] = {
    LatentARModel.name: LatentARModel,
    HawkesModel.name: HawkesModel,
    HawkesPowerLawModel.name: HawkesPowerLawModel,
    RegionalARModel.name: RegionalARModel,
}
DEFAULT_FAMILY = LatentARModel.name

__all__ = ["DEFAULT_FAMILY", "FAMILIES", "Family", "families_with", "get_family", "make_family"]


def get_family(name: str) -> type[Family]:
    """The family class registered under `name` (an InputError with "did you mean" otherwise)."""
    if name not in FAMILIES:
        raise InputError("command line", f"unknown model {name!r}{did_you_mean(name, FAMILIES)}; "
                         f"available: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def make_family(name: str, dataset: Dataset, priors_file: str | Path | None = None) -> Family:
    """A family configured for `dataset` (priors resolved; graph not built yet)."""
    return get_family(name)(dataset, priors_file)


def families_with(capability: str) -> list[str]:
    """Families that have a capability: "volatility", "regions" or "shock:<parameter>"."""
    if capability == "volatility":
        return [n for n, f in FAMILIES.items() if f.volatility_effects]
    if capability == "regions":
        return [n for n, f in FAMILIES.items() if f.regional]
    if capability.startswith("shock:"):
        return [n for n, f in FAMILIES.items() if capability.removeprefix("shock:") in f.shocks]
    return []
