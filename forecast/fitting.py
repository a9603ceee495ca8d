"""Fit a model (or reuse a cached fit), gate it on its diagnostics, write the fit run."""

from __future__ import annotations

import json
import shutil
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arviz as az

from forecast import runs
from forecast.data.dataset import Dataset
from forecast.diagnostics import diagnose
from forecast.errors import ConvergenceError, InputError, did_you_mean
from forecast.models.hawkes import HawkesModel, HawkesPowerLawModel
from forecast.models.latent_ar import LatentARModel
from forecast.models.sampling import COMPILE_FLAGS, MASS_MATRICES

MODELS: dict[str, type] = {"latent_ar": LatentARModel, "hawkes": HawkesModel,
                           "hawkes_powerlaw": HawkesPowerLawModel}
POSTERIOR = "posterior.nc"


@dataclass(frozen=True)
class FitSettings:
    draws: int = 1000
    # 500: the mass matrix and step size settle well within it (300 left a divergence in
    # two of four test fits); the tuning steps at target_accept 0.99 are half of a fit
    tune: int = 500
    chains: int = 4
    seed: int = 20240128
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
        if not 0 <= self.seed < 2**32:
            raise InputError("command line", f"--seed must be in 0..2^32-1, got {self.seed}")
        if not 0.5 <= self.target_accept < 1:
            raise InputError("command line", f"--target-accept must be in [0.5, 1), got {self.target_accept}")
        if self.mass_matrix not in MASS_MATRICES:
            raise InputError("command line", f"--mass-matrix must be one of {', '.join(MASS_MATRICES)}, "
                             f"got {self.mass_matrix!r}")
        if self.sampler not in ("nutpie", "pymc"):
            raise InputError("command line", f"unknown sampler {self.sampler!r}"
                             f"{did_you_mean(self.sampler, ('nutpie', 'pymc'))}")
        if self.sampler == "pymc" and self.mass_matrix != "draws":
            # PyMC's NUTS adapts from the draws' variance only: the setting would be ignored
            raise InputError("command line", "--mass-matrix gradients needs --sampler nutpie (PyMC's "
                             "own sampler adapts the mass matrix from the draws only)")


@dataclass
class FitResult:
    model: Any
    idata: az.InferenceData
    manifest: dict[str, Any]
    reused: bool
    # the posterior as a netCDF file already on disk (the cache entry), copied rather than
    # written again into a run folder; None when the fit was not cached
    posterior_file: Path | None = None


def make_model(name: str, dataset: Dataset, priors_file: str | Path | None) -> Any:
    if name not in MODELS:
        raise InputError("command line", f"unknown model {name!r}{did_you_mean(name, MODELS)}; "
                         f"available: {', '.join(MODELS)}")
    return MODELS[name](dataset, priors_file)


def fit_key(model: Any, settings: FitSettings) -> str:
    """Content hash of everything that determines the posterior."""
    payload = {
        "model": model.name, "revision": model.revision, "data": model.dataset.content_hash(),
        "priors": model.priors.to_dict(), "settings": asdict(settings),
        "versions": runs.versions(),
        # how the sampler compiles the model: fits made with other flags round differently
        "compile": COMPILE_FLAGS,
    }
    return runs.sha256_text(json.dumps(payload, sort_keys=True, default=str))[:20]


def observation_summary(dataset: Dataset) -> dict[str, Any]:
    obs = dataset.observations
    fitted = dataset.fitted
    return {
        "fitted_by_bound": {k: int(v) for k, v in fitted["bound"].value_counts().sort_index().items()},
        "fitted_by_definition": {k: int(v) for k, v in
                                 fitted["definition"].value_counts().sort_index().items()},
        "checks": int((obs["use"] == "check").sum()),
        "reference_definition": dataset.reference,
        "bins": dataset.axis.n, "freq": dataset.axis.freq,
        "first_bin": dataset.axis.labels[0], "last_bin": dataset.axis.labels[-1],
    }


def _cache_dir(cache_root: Path, key: str) -> Path:
    return cache_root / "fits" / key


def _load_cached(path: Path) -> tuple[az.InferenceData, dict[str, Any]] | None:
    if not path.exists():
        return None
    try:
        manifest = json.loads((path / runs.MANIFEST).read_text())
        idata = az.from_netcdf(path / POSTERIOR)
        idata.posterior.load()
        return idata, manifest
    except Exception as exc:  # a damaged cache entry is replaced, never trusted
        warnings.warn(f"fit cache entry {path} is unreadable ({type(exc).__name__}: {exc}); refitting",
                      stacklevel=2)
        shutil.rmtree(path, ignore_errors=True)
        return None


MIN_FITTED_ROWS = 3


def check_identifiable(dataset: Dataset) -> None:
    """Refuse, before sampling, data that cannot identify the model (bounded time, exit 3)."""
    fitted = dataset.fitted
    if len(fitted) < MIN_FITTED_ROWS:
        raise ConvergenceError(
            f"{dataset.name}: only {len(fitted)} observation(s) enter the likelihood; at least "
            f"{MIN_FITTED_ROWS} are needed to tell the level, the persistence and the noise apart. "
            "The fit was not attempted.")
    if (fitted["hi"] == 0).all():
        raise ConvergenceError(
            f"{dataset.name}: every fitted observation is zero, so the attack rate is identified only "
            "as 'near zero' and the posterior would be the prior's lower tail. The fit was not "
            "attempted; add periods with attacks, or state the question as a bound.")


def fit(dataset: Dataset, *, model_name: str = "latent_ar", priors_file: str | Path | None = None,
        settings: FitSettings = FitSettings(), cache_root: Path | None = runs.DEFAULT_ROOT / ".cache",
        progress: bool = True) -> FitResult:
    """Fit, or reuse the cached fit with the same inputs and settings."""
    settings.check()
    check_identifiable(dataset)
    model = make_model(model_name, dataset, priors_file)
    key = fit_key(model, settings)
    if cache_root is not None:
        cached = _load_cached(_cache_dir(cache_root, key))
        if cached is not None:
            idata, manifest = cached
            return FitResult(model, idata, manifest, reused=True,
                             posterior_file=_cache_dir(cache_root, key) / POSTERIOR)
    started = time.perf_counter()
    model.build()
    idata = model.fit(draws=settings.draws, tune=settings.tune, chains=settings.chains,
                      seed=settings.seed, sampler=settings.sampler, progress=progress,
                      target_accept=settings.target_accept, mass_matrix=settings.mass_matrix)
    wall = time.perf_counter() - started
    free = [rv.name for rv in model.model.free_RVs]
    diagnostics = diagnose(idata, free)
    manifest = {
        "kind": "fit",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "fit_key": key,
        "model": model.name,
        "settings": asdict(settings),
        "wall_seconds": round(wall, 1),
        "data": {"name": dataset.name, "content_sha256": dataset.content_hash(),
                 "files": {str(p): runs.sha256_file(p) for p in dataset.files},
                 "observations": observation_summary(dataset)},
        "priors": {"files": {str(p): runs.sha256_file(p) for p in model.priors.sources},
                   "resolved": model.priors.to_dict()},
        "presence_reference": getattr(model, "presence_ref", None),
        "diagnostics": diagnostics.to_dict(),
        "versions": runs.versions(),
    }
    posterior_file = None
    if cache_root is not None:
        final = _cache_dir(cache_root, key)
        if not final.exists():
            with runs.staged_run(final) as tmp:
                idata.to_netcdf(str(tmp / POSTERIOR))
                runs.write_json(tmp / runs.MANIFEST, manifest)
            posterior_file = final / POSTERIOR
    return FitResult(model, idata, manifest, reused=False, posterior_file=posterior_file)


def verdict(manifest: dict[str, Any], allow_unconverged: bool) -> str:
    if manifest["diagnostics"]["passed"]:
        return "passed"
    return "allowed_unconverged" if allow_unconverged else "refused"


def write_fit_run(result: FitResult, out: Path, allow_unconverged: bool,
                  inputs: dict[str, Any] | None = None) -> tuple[Path, str]:
    """Write posterior.nc and manifest.json into a new run folder; return (path, verdict)."""
    status = verdict(result.manifest, allow_unconverged)
    manifest = {**result.manifest, "verdict": status, "allow_unconverged": allow_unconverged,
                "reused_cached_fit": result.reused, "command": runs.command_line()}
    if inputs is not None:
        manifest["inputs"] = inputs
    with runs.staged_run(out) as tmp:
        result.idata.to_netcdf(str(tmp / POSTERIOR))
        runs.write_json(tmp / runs.MANIFEST, manifest)
    return out, status


def gate(result: FitResult, allow_unconverged: bool) -> None:
    """Raise ConvergenceError for a failed fit unless the user let it through."""
    diagnostics = result.manifest["diagnostics"]
    if diagnostics["passed"]:
        return
    failures = "; ".join(diagnostics["failures"])
    if allow_unconverged:
        print(f"WARNING: the fit did not converge ({failures}); continuing because "
              "--allow-unconverged was given", file=sys.stderr)
        return
    raise ConvergenceError(f"the fit failed its diagnostics gate: {failures}. Rerun with more "
                           "--tune/--draws, or pass --allow-unconverged to use it anyway (reports "
                           "will say so)")


def load_fit_run(run_dir: str | Path, allow_unconverged: bool = False) -> tuple[az.InferenceData, dict]:
    """Read a fit (or scenario) run's posterior and manifest, refusing unconverged fits."""
    run_dir = Path(run_dir)
    manifest = runs.read_manifest(run_dir)
    if "diagnostics" not in manifest:
        raise InputError(run_dir, "its manifest holds no fit")
    if not (run_dir / POSTERIOR).exists():
        raise InputError(run_dir, f"has no {POSTERIOR}")
    if not manifest["diagnostics"]["passed"] and not allow_unconverged:
        raise ConvergenceError(f"{run_dir}: this fit failed its diagnostics gate "
                               f"({'; '.join(manifest['diagnostics']['failures'])}); pass "
                               "--allow-unconverged to use it anyway")
    return az.from_netcdf(run_dir / POSTERIOR), manifest
