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


def compare_runs(run_dirs: list[str | Path]) -> str:
    """The comparison table as text (Pareto-k warnings first)."""
    idatas: dict[str, az.InferenceData] = {}
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
    table, high_k = compare_models(idatas)
    n_obs = next(iter(idatas.values())).log_likelihood.sizes["observation"]
    lines = pareto_warnings(high_k, n_obs)
    lines.append(f"PSIS-LOO on {n_obs} observations (elpd: higher is better; weight: stacking)")
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return "\n".join(lines)
