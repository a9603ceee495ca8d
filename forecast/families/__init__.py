"""The registry of model families: the one place that lists them.

Adding a family: a folder beside `latent_ar/`, `hawkes/` and `regional_ar/` (graph, simulator,
`priors.toml`, README) and one line in FAMILIES naming its class. Everything else asks
the family (`forecast/families/base.py` lists what it must provide).

A family's module is imported when the family is first asked for, and its graph module
imports PyMC and PyTensor only when a graph is built: the names, shocks, capabilities and
parameter families below are read without them (`forecast validate` stays quick).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from forecast.config import DEFAULT_MODEL
from forecast.data.dataset import Dataset
from forecast.errors import InputError, did_you_mean
from forecast.families.base import Family


class _Registry(Mapping[str, type[Family]]):
    """name -> family class, each class imported on first use."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = entries                  # name -> "module:Class"
        self._loaded: dict[str, type[Family]] = {}

    def __getitem__(self, name: str) -> type[Family]:
        if name not in self._loaded:
            module, cls = self._entries[name].split(":")
            self._loaded[name] = getattr(importlib.import_module(module), cls)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


FAMILIES: Mapping[str, type[Family]] = _Registry({
    "latent_ar": "forecast.families.latent_ar.graph:LatentARModel",
    "hawkes": "forecast.families.hawkes.graph:HawkesModel",
    "hawkes_powerlaw": "forecast.families.hawkes.graph:HawkesPowerLawModel",
    "regional_ar": "forecast.families.regional_ar.graph:RegionalARModel",
})
DEFAULT_FAMILY = DEFAULT_MODEL

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
