"""Priors as data: TOML files naming a distribution and its parameters per parameter.

A file has one table per parameter, e.g.

    [elasticity]
    dist = "Normal"
    mu = 0.5
    sigma = 0.5

Tables may hold sub-tables that refine a family for one member, e.g.
`[reporting_ratio.jinsa]` overrides `[reporting_ratio]` for the JINSA counting
definition. A user file overrides the default per parameter family: its table replaces the
default's table whole, the default's member sub-tables included (the user's own sub-tables
then refine it again). A table must state its distribution and all its parameters.
Distribution names resolve through the explicit registry below, never by import.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast.errors import InputError, did_you_mean
from forecast.lazy import lazy_module

pm = lazy_module("pymc")   # imported when a variable is created, not by the quick commands

# Prior files live at the top of the repository (the package is installed editable).
PRIORS_DIR = Path(__file__).resolve().parents[1] / "priors"

# name -> (PyMC class name, required parameters, parameters that must be > 0)
DISTRIBUTIONS: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "Normal": ("Normal", ("mu", "sigma"), ("sigma",)),
    "HalfNormal": ("HalfNormal", ("sigma",), ("sigma",)),
    "LogNormal": ("LogNormal", ("mu", "sigma"), ("sigma",)),
    "StudentT": ("StudentT", ("nu", "mu", "sigma"), ("nu", "sigma")),
    "Beta": ("Beta", ("alpha", "beta"), ("alpha", "beta")),
    "Gamma": ("Gamma", ("alpha", "beta"), ("alpha", "beta")),
    "Exponential": ("Exponential", ("lam",), ("lam",)),
    "HalfStudentT": ("HalfStudentT", ("nu", "sigma"), ("nu", "sigma")),
    "Uniform": ("Uniform", ("lower", "upper"), ()),
}
# Support of each distribution, to check it against what the parameter allows.
SUPPORT = {
    "Normal": "real", "StudentT": "real", "HalfNormal": "positive", "LogNormal": "positive",
    "Gamma": "positive", "Exponential": "positive", "HalfStudentT": "positive", "Beta": "unit",
    "Uniform": "interval",
}


@dataclass(frozen=True)
class PriorSpec:
    dist: str
    params: dict[str, float]

    def describe(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.dist}({args})"

    def to_dict(self) -> dict[str, Any]:
        return {"dist": self.dist, **self.params}

    def rv(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC random variable inside the current model context."""
        cls = getattr(pm, DISTRIBUTIONS[self.dist][0])
        return cls(name, **self.params, **kwargs)

    def dist_object(self) -> Any:
        return getattr(pm, DISTRIBUTIONS[self.dist][0]).dist(**self.params)


@dataclass(frozen=True)
class Priors:
    """Resolved priors: family specs plus per-member refinements."""

    specs: dict[str, PriorSpec]
    members: dict[str, dict[str, PriorSpec]]
    sources: tuple[str, ...]

    def get(self, family: str, member: str | None = None) -> PriorSpec:
        if member is not None and member in self.members.get(family, {}):
            return self.members[family][member]
        return self.specs[family]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for family, spec in self.specs.items():
            out[family] = spec.to_dict()
            for member, sub in self.members.get(family, {}).items():
                out[family][member] = sub.to_dict()
        return out


def _parse_spec(table: dict[str, Any], source: str, key: str, support: str) -> PriorSpec:
    dist = table.get("dist")
    if not isinstance(dist, str):
        raise InputError(source, "needs dist = \"<distribution name>\"", where=f"[{key}]")
    if dist not in DISTRIBUTIONS:
        raise InputError(source, f"unknown distribution {dist!r}{did_you_mean(dist, DISTRIBUTIONS)}; "
                         f"known: {', '.join(DISTRIBUTIONS)}", where=f"[{key}] dist")
    _, required, positive = DISTRIBUTIONS[dist]
    params = {k: v for k, v in table.items() if k != "dist" and not isinstance(v, dict)}
    for name in params:
        if name not in required:
            raise InputError(source, f"{dist} has no parameter {name!r}{did_you_mean(name, required)}; "
                             f"it takes {', '.join(required)}", where=f"[{key}] {name}")
    for name in required:
        if name not in params:
            raise InputError(source, f"{dist} needs parameter {name!r}", where=f"[{key}]")
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(source, f"{name} must be a number, got {value!r}", where=f"[{key}] {name}")
        if not math.isfinite(value) or abs(value) > 1e6:
            raise InputError(source, f"{name} = {value} is not a finite number of sensible size",
                             where=f"[{key}] {name}")
        if name in positive and value <= 0:
            raise InputError(source, f"{name} must be > 0, got {value}", where=f"[{key}] {name}")
    if dist == "Uniform" and not params["lower"] < params["upper"]:
        raise InputError(source, "Uniform needs lower < upper", where=f"[{key}]")
    have = SUPPORT[dist]
    if support == "unit":
        ok = have == "unit" or (have == "interval" and 0 <= params["lower"] and params["upper"] <= 1)
    elif support == "positive":
        ok = have == "positive" or (have == "interval" and params["lower"] >= 0)
    else:
        ok = True
    if not ok:
        raise InputError(source, f"{dist} does not fit this parameter, whose values must be "
                         f"{'in (0, 1)' if support == 'unit' else 'positive'}", where=f"[{key}]")
    return PriorSpec(dist, {k: float(params[k]) for k in required})


def read_priors_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such priors file")
    if path.is_dir():
        raise InputError(path, "is a directory; expected a TOML priors file")
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))   # a BOM, as the CSV reader accepts
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(path, "tables or arrays are nested too deeply to be a priors file") from None


def resolve_priors(
    families: dict[str, str],
    default_file: str | Path | Sequence[str | Path],
    user_file: str | Path | None = None,
    members: dict[str, list[str]] | None = None,
) -> Priors:
    """Merge the user file over the default file, per parameter family.

    `families` maps each parameter family the model has to its support ('real',
    'positive' or 'unit'); `members` lists the valid sub-table names of a family.
    `default_file` may be several files read in order (a family that extends another reads
    its parent's defaults, then its own additions).
    """
    members = members or {}
    specs: dict[str, PriorSpec] = {}
    subs: dict[str, dict[str, PriorSpec]] = {}
    defaults = [str(default_file)] if isinstance(default_file, str | Path) else [str(f) for f in default_file]
    sources = defaults + ([str(user_file)] if user_file else [])
    for position, source in enumerate(sources):
        user = position >= len(defaults)
        data = read_priors_file(source)
        for key, table in data.items():
            if key not in families:
                raise InputError(source, f"unknown parameter {key!r}{did_you_mean(key, families)}; "
                                 f"this model has: {', '.join(families)}", where=f"[{key}]")
            if not isinstance(table, dict):
                raise InputError(source, "expected a table with dist and its parameters",
                                 where=f"[{key}]")
            scalars = [k for k, v in table.items() if not isinstance(v, dict)]
            if scalars and "dist" not in table:
                # a table replaces the default whole; a lone parameter would be silently ignored
                raise InputError(source, f"gives {', '.join(scalars)} without dist: a table replaces the "
                                 "default prior whole, so state dist and all its parameters (e.g. "
                                 'dist = "Normal", mu = 0.0, sigma = 1.0)', where=f"[{key}]")
            if "dist" in table:
                specs[key] = _parse_spec(table, source, key, families[key])
                if user:
                    # a user's family table replaces the default's per-member refinements too
                    # (else [reporting_ratio] would leave every fitted definition at its default)
                    subs.pop(key, None)
            for member, sub in table.items():
                if not isinstance(sub, dict):
                    continue
                # the default file may refine members this dataset lacks; a user file may not
                allowed = members.get(key) if user else None
                if allowed is not None and member not in allowed:
                    raise InputError(source, f"unknown member {member!r} of {key}"
                                     f"{did_you_mean(member, allowed)}", where=f"[{key}.{member}]")
                subs.setdefault(key, {})[member] = _parse_spec(
                    sub, source, f"{key}.{member}", families[key])
    missing = [k for k in families if k not in specs]
    if missing:
        raise InputError(sources[0], f"no prior for parameter {missing[0]!r}", where=f"[{missing[0]}]")
    return Priors(specs, subs, tuple(sources))
