"""Fit a model (or reuse a cached fit), gate it on its diagnostics, write the fit run."""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np

from forecast import runs
from forecast.config import DEFAULT_MODEL, FitSettings, portable_path
from forecast.core.diagnostics import diagnose
from forecast.core.sampling import COMPILE_FLAGS
from forecast.core.scaling import Scaling
from forecast.data.dataset import Dataset
from forecast.errors import ConvergenceError, ForecastError, InputError
from forecast.families import Family, make_family

POSTERIOR = "posterior.nc"


@dataclass
class FitResult:
    model: Family
    idata: az.InferenceData
    manifest: dict[str, Any]
    reused: bool
    # the posterior as a netCDF file already on disk (the cache entry), copied rather than
    # written again into a run folder; None when the fit was not cached
    posterior_file: Path | None = None


def fit_key(model: Family, settings: FitSettings) -> str:
    """Content hash of everything that determines the posterior."""
    payload = {
        "model": model.name, "revision": model.revision, "data": model.dataset.content_hash(),
        "priors": model.priors.to_dict(), "settings": asdict(settings),
        "versions": runs.versions(),
        # how the sampler compiles the model: fits made with other flags round differently
        "compile": COMPILE_FLAGS,
    }
    return runs.sha256_text(json.dumps(payload, sort_keys=True, default=str))[:20]


SCALING_ATTR = "covariate_scaling"


def covariate_scaling(model: Family) -> dict[str, dict[str, float]]:
    """Per covariate, the mean and sd the model standardised it with (manifest and posterior
    attrs): the posterior's `beta` is per sd of the covariate, `beta / sd` per unit."""
    scaling = Scaling(model.cov_mean, model.cov_sd, model.presence_ref)
    return scaling.record(list(model.dataset.covariates.columns))


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


def _quarantine(path: Path, why: str) -> None:
    """Move a damaged cache entry aside (never delete what may be someone's only copy)."""
    target = path.parent.parent / "quarantine" / f"{path.name}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    except OSError as exc:
        raise ForecastError(f"the cached fit {path} is damaged ({why}) and cannot be moved aside "
                            f"({exc.strerror}); nothing was deleted. Move it away, or pass "
                            "--no-cache") from None
    warnings.warn(f"fit cache entry {path} is damaged ({why}); moved to {target} and refitting",
                  stacklevel=3)


def read_posterior(path: Path, intact: bool) -> az.InferenceData:
    """A posterior file's draws, loaded. `intact`: its hash matched the one recorded, so a
    reader failure is the environment's (ForecastError), not the file's (IncompleteRun)."""
    try:
        idata = az.from_netcdf(path)
        idata.posterior.load()
    except Exception as exc:   # noqa: BLE001 - the netCDF stack raises many types for one bad file
        if intact:
            raise ForecastError(f"{path} is intact (its hash matches) but cannot be read here "
                                f"({type(exc).__name__}: {exc}); nothing was moved or deleted. "
                                "Repair the Python environment (or pass --no-cache to fit anew)") from None
        raise runs.IncompleteRun(path.parent, f"{path.name} cannot be read: {type(exc).__name__}: "
                                 f"{str(exc)[:200]}") from None
    return idata


def _recorded_hash(manifest: dict[str, Any], name: str) -> bool:
    files = manifest.get("files_sha256")
    return name in (files if isinstance(files, dict) else {}) or (
        name == POSTERIOR and "posterior_sha256" in manifest)


def _load_cached(path: Path) -> tuple[az.InferenceData, dict[str, Any]] | None:
    """The cached fit, or None (absent or damaged). The entry is checked by the run loader
    (shape, seal, the posterior's recorded hash): a damaged entry is quarantined; an intact
    one that cannot be read here (a broken environment) is an error, and nothing is moved."""
    if not os.path.lexists(path):
        return None
    try:
        manifest = runs.load_run(path, kinds=("fit",))
        idata = read_posterior(path / POSTERIOR, intact=_recorded_hash(manifest, POSTERIOR))
    except runs.IncompleteRun as exc:
        _quarantine(path, exc.reason)
        return None
    return idata, manifest


class SamplingStopped(ForecastError):
    """The sampler returned before it finished (interrupted): its partial trace is never kept."""

    exit_code = 130


def check_complete(idata: az.InferenceData, settings: FitSettings, names: list[str]) -> None:
    """Refuse a trace with fewer chains or draws than asked, or NaN padding in its parameters
    (what nutpie returns when Ctrl-C stops it): it must not be cached under the full key."""
    post = idata.posterior
    chains, draws = post.sizes.get("chain", 0), post.sizes.get("draw", 0)
    problem = None
    if (chains, draws) != (settings.chains, settings.draws):
        problem = f"{chains} chain(s) of {draws} draws instead of {settings.chains} of {settings.draws}"
    else:
        for name in names:
            if name in post and not np.isfinite(np.asarray(post[name], dtype=float)).all():
                problem = f"'{name}' has missing (NaN) draws"
                break
    if problem:
        raise SamplingStopped(f"sampling stopped before it finished ({problem}); the partial trace "
                              "was neither cached nor written. Run the command again")


def space_needed(dataset: Dataset, settings: FitSettings) -> int:
    """Rough bytes of a fit on disk (draws of every per-bin and per-row variable) plus the run."""
    per_draw = 8 * (4 * dataset.axis.n + 3 * len(dataset.observations) + 64)
    return runs.BASE_SPACE + settings.draws * settings.chains * per_draw


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


def fit(dataset: Dataset, *, model_name: str = DEFAULT_MODEL, priors_file: str | Path | None = None,
        settings: FitSettings | None = None, cache_root: Path | None = runs.DEFAULT_ROOT / ".cache",
        progress: bool = True) -> FitResult:
    """Fit, or reuse the cached fit with the same inputs and settings."""
    settings = settings or FitSettings()
    settings.check()
    check_identifiable(dataset)
    model = make_family(model_name, dataset, priors_file)
    key = fit_key(model, settings)
    scaling = covariate_scaling(model)
    if cache_root is not None:
        cached = _load_cached(_cache_dir(cache_root, key))
        if cached is not None:
            idata, manifest = cached
            # entries cached before the scaling was recorded: it follows from the data (in the key)
            manifest.setdefault("covariate_scaling", scaling)
            idata.posterior.attrs.setdefault(SCALING_ATTR, json.dumps(scaling))
            return FitResult(model, idata, manifest, reused=True,
                             posterior_file=_cache_dir(cache_root, key) / POSTERIOR)
        try:    # before sampling: the cache entry can be written
            runs.check_output(_cache_dir(cache_root, key), space_needed(dataset, settings))
        except InputError as exc:
            raise InputError(exc.source, f"{exc.detail} (the fit cache; --no-cache fits without "
                             "it)") from None
    started = time.perf_counter()
    model.build()
    idata = model.fit(draws=settings.draws, tune=settings.tune, chains=settings.chains,
                      seed=settings.seed, sampler=settings.sampler, progress=progress,
                      target_accept=settings.target_accept, mass_matrix=settings.mass_matrix)
    wall = time.perf_counter() - started
    idata.posterior.attrs[SCALING_ATTR] = json.dumps(scaling)
    free = [rv.name for rv in model.model.free_RVs]
    check_complete(idata, settings, free)
    diagnostics = diagnose(idata, free)
    manifest = {
        "kind": "fit",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "fit_key": key,
        "model": model.name,
        "settings": asdict(settings),
        "wall_seconds": round(wall, 1),
        "data": {"name": dataset.name, "content_sha256": dataset.content_hash(),
                 "files": {portable_path(str(p)): runs.sha256_file(p) for p in dataset.files},
                 "observations": observation_summary(dataset)},
        "priors": {"files": {portable_path(str(p)): runs.sha256_file(p) for p in model.priors.sources},
                   "resolved": model.priors.to_dict()},
        "presence_reference": model.presence_ref,
        "covariate_scaling": scaling,
        # fitted rows a model of the total leaves out (they count only regions outside it)
        "rows_outside_total": model.rows_outside_total,
        "diagnostics": diagnostics.to_dict(),
        "versions": runs.versions(),
    }
    posterior_file = None
    if cache_root is not None:
        final = _cache_dir(cache_root, key)
        try:
            with runs.staged_run(final) as stage:
                idata.to_netcdf(str(stage.dir / POSTERIOR))
                runs.write_json(stage.dir / runs.MANIFEST,
                                {**manifest, "posterior_sha256": runs.sha256_file(stage.dir / POSTERIOR)},
                                seal=True)
            posterior_file = final / POSTERIOR
        except runs.AlreadyThere:
            # another process cached the same fit first (same key, same inputs): keep this one's
            # draws for this run and leave the cache entry as it is; never discard finished work
            posterior_file = None
    return FitResult(model, idata, manifest, reused=False, posterior_file=posterior_file)


def verdict(manifest: dict[str, Any], allow_unconverged: bool) -> str:
    if manifest["diagnostics"]["passed"]:
        return "passed"
    return "allowed_unconverged" if allow_unconverged else "refused"


def fit_section(fit_manifest: dict[str, Any]) -> dict[str, Any]:
    """The fit's own record inside a run's manifest (whose `created` and times are the run's)."""
    return {k: fit_manifest.get(k) for k in ("created", "wall_seconds", "fit_key")}


def write_fit_run(result: FitResult, out: Path, allow_unconverged: bool,
                  extra: dict[str, Any] | None = None) -> tuple[Path, str]:
    """Write posterior.nc and manifest.json into a new run folder; return (path, verdict)."""
    status = verdict(result.manifest, allow_unconverged)
    manifest = {**result.manifest, "verdict": status, "allow_unconverged": allow_unconverged,
                "reused_cached_fit": result.reused, "command": runs.command_line()}
    if extra:
        manifest["fit"] = fit_section(result.manifest)
        manifest.update(extra)
    with runs.staged_run(out) as stage:
        result.idata.to_netcdf(str(stage.dir / POSTERIOR))
        manifest["files_sha256"] = runs.files_sha256(stage.dir)
        runs.write_json(stage.dir / runs.MANIFEST, manifest, seal=True)
    return stage.final, status


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
    manifest = runs.load_run(run_dir)
    if "ensemble" in manifest:
        raise InputError(run_dir, "is an ensemble run (several posteriors); --fit takes a fit run or a "
                         "single-model run")
    idata = read_posterior(run_dir / POSTERIOR, intact=_recorded_hash(manifest, POSTERIOR))
    if not manifest["diagnostics"]["passed"] and not allow_unconverged:
        raise ConvergenceError(f"{run_dir}: this fit failed its diagnostics gate "
                               f"({'; '.join(map(str, manifest['diagnostics']['failures']))}); pass "
                               "--allow-unconverged to use it anyway")
    return idata, manifest
