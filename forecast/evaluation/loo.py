"""PSIS-LOO of fitted runs on the same data, with stacking weights."""

from __future__ import annotations

from pathlib import Path

import arviz as az

from forecast import runs
from forecast.config import FitSettings, run_config
from forecast.data.dataset import Dataset
from forecast.ensemble import LOO_LABEL, compare_models, pareto_warnings
from forecast.errors import InputError
from forecast.families import get_family, make_family
from forecast.fitting import fit, read_posterior


def _posteriors(run_dir: Path, manifest: dict) -> dict[str, Path]:
    """model -> posterior file of a run the loader has checked (one, or one per ensemble member)."""
    files = [name for name in runs.run_files(manifest) if name.startswith("posterior")]
    if files == ["posterior.nc"]:
        return {manifest["model"]: run_dir / "posterior.nc"}
    return {name.removeprefix("posterior-").removesuffix(".nc"): run_dir / name for name in files}


MAX_REFITS = 30


def _refitter(run_dir: Path, manifest: dict, idata: az.InferenceData, name: str) -> az.SamplingWrapper:
    """An exact-LOO refitter for a fit, from the data and settings its run recorded."""
    config = run_config(run_dir, manifest)
    dataset = config.data.load()
    if dataset.content_hash() != manifest["data"]["content_sha256"]:
        raise InputError(run_dir, "its data files have changed since the fit")
    # fits made before the mass-matrix setting existed used nutpie's gradient-based one
    settings = FitSettings(**{"mass_matrix": "gradients", **manifest["settings"]})

    def fit_one(data: Dataset) -> az.InferenceData:
        return fit(data, model_name=name, priors_file=config.priors, settings=settings,
                   cache_root=None, progress=False).idata

    return make_family(name, dataset, config.priors).exact_loo_refitter(fit_one, idata)


def compare_runs(run_dirs: list[str | Path], refit_high_k: bool = False) -> str:
    """The comparison table as text (Pareto-k warnings first).

    `refit_high_k`: score the observations with Pareto k > 0.7 by exact leave-one-out refits,
    for the families that support it (at most MAX_REFITS per model).
    """
    idatas: dict[str, az.InferenceData] = {}
    refits = {}
    data_hash: tuple[str, str] | None = None
    resolved = [Path(r).resolve() for r in run_dirs]
    if len(set(resolved)) != len(resolved):
        raise InputError("command line", "a run is given twice; LOO compares different fits")
    for raw in run_dirs:
        run_dir = Path(raw)
        manifest = runs.load_run(run_dir)
        digest = manifest["data"]["content_sha256"]
        if data_hash is None:
            data_hash = (str(run_dir), digest)
        elif digest != data_hash[1]:
            raise InputError(run_dir, f"was fitted on other data than {data_hash[0]}; LOO compares "
                             "models on the same observations only")
        recorded = manifest.get("files_sha256") or {}
        for name, path in _posteriors(run_dir, manifest).items():
            label = name if name not in idatas else f"{name} ({run_dir.name})"
            idatas[label] = read_posterior(path, intact=path.name in recorded)
            if "log_likelihood" not in idatas[label].groups():
                raise runs.IncompleteRun(run_dir, f"{path.name} holds no pointwise log-likelihood")
            if refit_high_k and get_family(name).supports_exact_loo:
                refits[label] = _refitter(run_dir, manifest, idatas[label], name)
    table, high_k = compare_models(idatas, refits, max_refits=MAX_REFITS)
    n_obs = next(iter(idatas.values())).log_likelihood.sizes["observation"]
    lines = pareto_warnings(high_k, n_obs)
    how = " (exact refits for Pareto k > 0.7)" if refits else ""
    lines.append(f"PSIS-LOO on {n_obs} observations{how} (elpd: higher is better; weight: stacking); "
                 f"{LOO_LABEL}: for forecasting skill use `forecast backtest` or leave-future-out "
                 "weights (`forecast run --ensemble`)")
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return "\n".join(lines)
