"""Typed, frozen run configuration: what the CLI builds, the manifest stores and `rerun` reads.

The library never sees an `argparse.Namespace`: commands turn their arguments into a
`RunConfig` (or its parts) and hand that to the workflows.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from forecast.data.dataset import Dataset
from forecast.errors import InputError, did_you_mean
from forecast.safeio import MiB, check_regular

# the family a run fits unless told otherwise: the latent AR model by region (on data without
# regions it is the latent AR model itself)
DEFAULT_MODEL = "regional_ar"

BUNDLED = "bundled"
LAYOUTS = ("counts", "acled", "ucdp")
FREQS = ("month", "week")
SAMPLERS = ("nutpie", "pymc")
MASS_MATRICES = ("draws", "gradients")
DEFAULT_SEED = 20240128
ENSEMBLE_METHODS = ("stacking", "pseudo-bma")
WEIGHTS_FROM = ("lfo", "loo")
MAX_SEED = 2**32 - 1       # numpy's legacy seeding and nutpie take 32-bit seeds
MAX_PRIORS_BYTES = MiB
MIN_DRAWS = 10


def portable_path(path: str | None) -> str | None:
    """A path as the manifest stores it: relative to the working directory when inside it.

    Relative paths let a published run rerun from another clone of the repository.
    """
    if path is None or path == BUNDLED:
        return path
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


@dataclass(frozen=True)
class DataSource:
    """Where the data come from: the bundled dataset, a counts/observations CSV or an export."""

    data: str = BUNDLED
    events: str | None = None
    layout: str = "counts"
    perpetrator: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    freq: str = "month"

    def check(self) -> None:
        if self.layout not in LAYOUTS:
            raise InputError("command line",
                             f"--layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.freq not in FREQS:
            raise InputError("command line", f"--freq must be one of {', '.join(FREQS)}, got {self.freq!r}")

    def load(self) -> Dataset:
        """The dataset (counts, observations or an event export), validated."""
        self.check()
        if self.layout == "counts":
            from forecast.data.loaders import load_dataset

            return load_dataset(self.data, self.events)
        from forecast.data.exports import DEFAULT_PERPETRATORS, DEFAULT_TARGETS, export_to_dataset

        return export_to_dataset(self.data, self.layout, list(self.perpetrator) or DEFAULT_PERPETRATORS,
                                 list(self.target) or DEFAULT_TARGETS, freq=self.freq, events=self.events)

    def portable(self) -> DataSource:
        return replace(self, data=portable_path(self.data) or BUNDLED, events=portable_path(self.events))


@dataclass(frozen=True)
class FitSettings:
    """Sampler settings (part of the fit's cache key)."""

    draws: int = 1000
    # 500: the mass matrix and step size settle well within it (300 left a divergence in
    # two of four test fits); the tuning steps at target_accept 0.99 are half of a fit
    tune: int = 500
    chains: int = 4
    seed: int = DEFAULT_SEED
    sampler: str = "nutpie"
    # 0.99: the lower bounds and gaps of the bundled data leave heavy-tailed stretches of the
    # latent path where larger steps diverge (0.95 gave 3-15 divergences in 4,000 draws)
    target_accept: float = 0.99
    # "draws": the mass matrix from the variance of the tuning draws (as in Stan and PyMC);
    # "gradients": nutpie's default, from draw and gradient variances. Measured side by side
    # (benchmarks/README.md): "draws" gave 2.2x (benchmark data) and 3.4x (bundled data) the
    # bulk ESS per draw; it takes deeper trees, and still more ESS per second.
    mass_matrix: str = "draws"

    def check(self) -> None:
        for name in ("draws", "tune", "chains"):
            value = getattr(self, name)
            if not 1 <= value <= 100_000:
                raise InputError("command line", f"--{name} must be between 1 and 100000, got {value}")
        if self.draws < MIN_DRAWS:
            # r-hat and ESS split each chain in halves: below this they are undefined (NaN)
            raise InputError("command line", f"--draws must be at least {MIN_DRAWS} (the diagnostics "
                             f"gate needs them), got {self.draws}")
        if self.chains < 2:
            # r-hat compares chains: the diagnostics gate cannot judge a single chain
            raise InputError("command line", "--chains must be at least 2 (r-hat compares chains)")
        if not 0 <= self.seed <= MAX_SEED:
            raise InputError("command line", f"--seed must be in 0..2^32-1, got {self.seed}")
        if not 0.5 <= self.target_accept < 1:
            raise InputError("command line",
                             f"--target-accept must be in [0.5, 1), got {self.target_accept}")
        if self.mass_matrix not in MASS_MATRICES:
            raise InputError("command line", f"--mass-matrix must be one of {', '.join(MASS_MATRICES)}, "
                             f"got {self.mass_matrix!r}")
        if self.sampler not in SAMPLERS:
            raise InputError("command line", f"unknown sampler {self.sampler!r}"
                             f"{did_you_mean(self.sampler, SAMPLERS)}")
        if self.sampler == "pymc" and self.mass_matrix != "draws":
            # PyMC's NUTS adapts from the draws' variance only: the setting would be ignored
            raise InputError("command line", "--mass-matrix gradients needs --sampler nutpie (PyMC's "
                             "own sampler adapts the mass matrix from the draws only)")


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run: data, model(s), priors, fit settings, scenarios, seeds."""

    data: DataSource = field(default_factory=DataSource)
    model: str = DEFAULT_MODEL
    # several families weighed into one forecast (needs ensemble: stacking or pseudo-bma)
    models: tuple[str, ...] = ()
    ensemble: str | None = None
    # what the weights are computed from: leave-future-out refits at the last `lfo_origins`
    # bins, scored `lfo_steps` bins ahead, or (only when asked) PSIS-LOO of the full fits
    weights_from: str = "lfo"
    lfo_origins: int = 6
    lfo_steps: int = 1
    priors: str | None = None
    fit: FitSettings = field(default_factory=FitSettings)
    scenarios: tuple[str, ...] = ()
    # the seed of the scenario simulation (common random numbers); the fit has its own in `fit`
    scenario_seed: int = DEFAULT_SEED
    fit_dir: str | None = None
    allow_unconverged: bool = False
    use_cache: bool = True
    runs_root: str = "runs"

    @property
    def model_names(self) -> list[str]:
        """The families of the run: `models` when given, else `model`."""
        return list(self.models) or [self.model]

    def check(self) -> None:
        """Option checks that need no file: before anything is read or sampled."""
        self.data.check()
        self.fit.check()
        names = self.model_names
        if len(set(names)) != len(names):
            raise InputError("command line", "--models lists a model twice")
        if len(names) > 1 and self.ensemble not in ENSEMBLE_METHODS:
            raise InputError("command line", "several --models need --ensemble stacking or --ensemble "
                             "pseudo-bma (how to weigh them)")
        if self.weights_from not in WEIGHTS_FROM:
            raise InputError("command line", f"--weights-from must be one of {', '.join(WEIGHTS_FROM)}, "
                             f"got {self.weights_from!r}")
        if self.lfo_origins < 2 or self.lfo_steps < 1:
            raise InputError("command line", "--lfo-origins must be at least 2 and --lfo-steps at least 1")
        if len(names) > 1 and self.fit_dir:
            raise InputError("command line",
                             "--fit gives one posterior; an ensemble fits each of its --models")
        if not 0 <= self.scenario_seed <= MAX_SEED:
            raise InputError("command line", f"--seed must be in 0..2^32-1, got {self.scenario_seed}")

    def check_files(self) -> None:
        """Input files the run reads through other layers (priors): regular files of sane size.

        The data and scenario readers bound their own reads; the priors reader does not."""
        if self.priors is not None:
            check_regular(self.priors, MAX_PRIORS_BYTES, "TOML priors file")

    def to_manifest(self) -> dict[str, Any]:
        """A JSON-ready record with portable paths (relative to the working directory when inside)."""
        out = asdict(replace(self, data=self.data.portable(), priors=portable_path(self.priors),
                             fit_dir=portable_path(self.fit_dir),
                             scenarios=tuple(portable_path(s) or s for s in self.scenarios)))
        out.pop("runs_root")
        return out

    @classmethod
    def from_manifest(cls, record: Any, where: str | os.PathLike[str]) -> RunConfig:
        """Read a manifest's `config` back; errors name the manifest and the key."""
        if not isinstance(record, dict):
            raise InputError(where, "its manifest has no 'config' table; it is not a complete run")
        try:
            data = _typed(DataSource, record.get("data", {}), where, "config.data")
            fit = _typed(FitSettings, record.get("fit", {}), where, "config.fit")
            rest = {k: v for k, v in record.items() if k not in ("data", "fit")}
            if rest.get("ensemble") and "weights_from" not in rest:
                rest["weights_from"] = "loo"     # ensembles were weighed by LOO before LFO existed
            config = _typed(cls, rest, where, "config")
            return replace(config, data=data, fit=fit)
        except TypeError as exc:
            raise InputError(where, f"malformed 'config' in the manifest ({exc})") from None


def run_config(run_dir: str | os.PathLike[str], manifest: dict[str, Any]) -> RunConfig:
    """The configuration a run recorded (`config`; runs of older versions recorded `inputs`)."""
    if "config" in manifest:
        return RunConfig.from_manifest(manifest["config"], Path(run_dir) / "manifest.json")
    inputs = manifest.get("inputs")
    if not isinstance(inputs, dict):
        raise InputError(run_dir, "its manifest records no configuration; it was not made by "
                         "`forecast run` or `forecast fit`")
    try:
        data = DataSource(inputs.get("data") or BUNDLED, inputs.get("events"),
                          inputs.get("layout") or "counts",
                          tuple(inputs.get("perpetrator") or ()), tuple(inputs.get("target") or ()),
                          inputs.get("freq") or "month")
        seed = int(inputs.get("seed", DEFAULT_SEED))
        fit = FitSettings(**{k: inputs[k] for k in ("draws", "tune", "chains", "sampler", "target_accept",
                                                    "mass_matrix") if inputs.get(k) is not None}, seed=seed)
        scenarios = inputs.get("scenarios") or ()
        if not isinstance(scenarios, list) or not all(isinstance(x, str) for x in scenarios):
            raise TypeError("'scenarios' must be a list of file names")
        models = tuple(m.strip() for m in (inputs.get("models") or "").split(",") if m.strip())
        return RunConfig(data=data, model=inputs.get("model") or DEFAULT_MODEL, models=models,
                         ensemble=inputs.get("ensemble"), weights_from="loo",
                         priors=inputs.get("priors"), fit=fit,
                         scenarios=tuple(scenarios), scenario_seed=seed,
                         fit_dir=inputs.get("fit_dir"),
                         allow_unconverged=bool(inputs.get("allow_unconverged")))
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError(Path(run_dir) / "manifest.json", f"malformed 'inputs' ({exc})") from None


def _typed(cls: type, record: Any, where: str | os.PathLike[str], key: str) -> Any:
    """`cls(**record)` with each field checked against its annotated type."""
    if not isinstance(record, dict):
        raise InputError(where, f"'{key}' must be a table", where=f"key '{key}'")
    known = {f.name: f for f in fields(cls)}
    unknown = [k for k in record if k not in known]
    if unknown:
        raise InputError(where, f"unknown key {unknown[0]!r} in '{key}'", where=f"key '{key}'")
    values = {}
    for name, value in record.items():
        annotation = str(known[name].type)
        if "tuple" in annotation:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise InputError(where, f"'{key}.{name}' must be a list of strings",
                                 where=f"key '{key}.{name}'")
            value = tuple(value)
        elif annotation.startswith("bool"):
            if not isinstance(value, bool):
                raise InputError(where, f"'{key}.{name}' must be true or false",
                                 where=f"key '{key}.{name}'")
        elif annotation.startswith("int"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(where, f"'{key}.{name}' must be a whole number",
                                 where=f"key '{key}.{name}'")
        elif annotation.startswith("float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(where, f"'{key}.{name}' must be a number", where=f"key '{key}.{name}'")
            value = float(value)
        elif annotation.startswith("str"):
            if not (isinstance(value, str) or (value is None and "None" in annotation)):
                raise InputError(where, f"'{key}.{name}' must be text", where=f"key '{key}.{name}'")
        values[name] = value
    return cls(**values)
