"""`forecast compare RUN_DIR...`: PSIS-LOO of fitted runs on the same data, with stacking weights."""

from __future__ import annotations

from pathlib import Path

import arviz as az

from forecast import runs
from forecast.ensemble import compare_models, pareto_warnings
from forecast.errors import InputError


def _posteriors(run_dir: Path) -> dict[str, Path]:
    manifest = runs.read_manifest(run_dir)
    if (run_dir / "posterior.nc").exists():
        return {manifest.get("model", "latent_ar"): run_dir / "posterior.nc"}
    found = {p.stem.removeprefix("posterior-"): p for p in sorted(run_dir.glob("posterior-*.nc"))}
    if not found:
        raise InputError(run_dir, "holds no posterior (posterior.nc); give fit or scenario runs")
    return found


MAX_REFITS = 30


def _refitter(run_dir: Path, manifest: dict, idata: az.InferenceData):
    """An exact-LOO refitter for a latent AR fit, from the data and settings its run recorded."""
    import argparse

    from forecast.exact_loo import LeaveOneOutRefit
    from forecast.fitting import FitSettings, fit
    from forecast.pipeline import load_data

    inputs = manifest.get("inputs")
    if not inputs:
        raise InputError(run_dir, "records no data options (made by an older version); refit it to use "
                         "--refit-high-k")
    dataset = load_data(argparse.Namespace(**{k: inputs.get(k) for k in
                                              ("data", "events", "layout", "perpetrator", "target", "freq")}))
    if dataset.content_hash() != manifest["data"]["content_sha256"]:
        raise InputError(run_dir, "its data files have changed since the fit")
    # fits made before the mass-matrix setting existed used nutpie's gradient-based one
    settings = FitSettings(**{"mass_matrix": "gradients", **manifest["settings"]})

    def fit_one(data):
        return fit(data, model_name="latent_ar", priors_file=inputs.get("priors"), settings=settings,
                   cache_root=None, progress=False).idata

    return LeaveOneOutRefit(dataset, fit_one, idata)


def compare_runs(run_dirs: list[str | Path], refit_high_k: bool = False) -> str:
    """The comparison table as text (Pareto-k warnings first).

    `refit_high_k`: score the latent AR model's observations with Pareto k > 0.7 by exact
    leave-one-out refits (at most MAX_REFITS per model).
    """
    idatas: dict[str, az.InferenceData] = {}
    refits = {}
    data_hash: tuple[str, str] | None = None
    for raw in run_dirs:
        run_dir = Path(raw)
        manifest = runs.read_manifest(run_dir)
        digest = manifest.get("data", {}).get("content_sha256")
        if digest is None:
            raise InputError(run_dir, "its manifest records no data hash; not a fit or scenario run")
        if data_hash is None:
            data_hash = (str(run_dir), digest)
        elif digest != data_hash[1]:
            raise InputError(run_dir, f"was fitted on other data than {data_hash[0]}; LOO compares "
                             "models on the same observations only")
        for name, path in _posteriors(run_dir).items():
            label = name if name not in idatas else f"{name} ({run_dir.name})"
            idatas[label] = az.from_netcdf(path)
            if refit_high_k and name == "latent_ar":
                refits[label] = _refitter(run_dir, manifest, idatas[label])
    table, high_k = compare_models(idatas, refits, max_refits=MAX_REFITS)
    n_obs = next(iter(idatas.values())).log_likelihood.sizes["observation"]
    lines = pareto_warnings(high_k, n_obs)
    how = " (exact refits for the latent AR's Pareto k > 0.7)" if refits else ""
    lines.append(f"PSIS-LOO on {n_obs} observations{how} (elpd: higher is better; weight: stacking)")
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return "\n".join(lines)
