"""`forecast run`: validate everything, fit or reuse a fit, simulate, write one run folder."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from forecast import runs
from forecast.errors import InputError


def run_scenarios(args: argparse.Namespace) -> Path:
    from forecast.cli import _fit, _load_data
    from forecast.fitting import POSTERIOR, load_fit_run, make_model, verdict
    from forecast.scenarios.engine import check_horizons, make_simulator, simulate_scenarios
    from forecast.scenarios.spec import load_scenarios
    from forecast.scenarios.summaries import write_tables

    # 1. every input is checked before any sampling
    scenarios = load_scenarios(args.scenarios)
    check_horizons(scenarios)
    dataset = _load_data(args)
    model = make_model(args.model, dataset, args.priors)
    checker = make_simulator(model, None)
    for scenario in scenarios:
        checker.check(scenario)
    out = runs.new_run_path(args.out, Path(args.runs_root), "run")

    # 2. the posterior: a given fit run, the cache, or a new fit
    if args.fit_dir:
        idata, fit_manifest = load_fit_run(args.fit_dir, args.allow_unconverged)
        if fit_manifest["data"]["content_sha256"] != dataset.content_hash():
            raise InputError(args.fit_dir, "this fit was made on other data than --data/--events give; "
                             "pass the same data, or fit again")
        if fit_manifest["priors"]["resolved"] != model.priors.to_dict():
            raise InputError(args.fit_dir, "this fit used other priors than --priors gives")
        fit_source = str(args.fit_dir)
    else:
        result, gate = _fit(args, dataset)
        gate(result, args.allow_unconverged)
        idata, fit_manifest = result.idata, result.manifest
        fit_source = "cache" if result.reused else "new fit"
    status = verdict(fit_manifest, args.allow_unconverged)

    # 3. simulate every scenario from the same draws and write the run
    draws = simulate_scenarios(model, idata.posterior, scenarios, args.seed)
    manifest = {
        **fit_manifest, "kind": "run", "verdict": status, "allow_unconverged": args.allow_unconverged,
        "fit_source": fit_source, "command": runs.command_line(),
        "scenario_seed": args.seed,
        "scenarios": [{"name": s.name, "file": s.source, "sha256": s.sha256, "baseline": s.baseline}
                      for s in scenarios],
    }
    with runs.staged_run(out) as tmp:
        if args.fit_dir:
            shutil.copyfile(Path(args.fit_dir) / POSTERIOR, tmp / POSTERIOR)
        else:
            idata.to_netcdf(str(tmp / POSTERIOR))
        draws.to_netcdf(tmp / "scenarios.nc", engine="h5netcdf")
        manifest["tables"] = write_tables(draws, tmp)
        if not args.no_report:
            from forecast.report import write_report

            write_report(tmp, idata, draws, manifest, dataset)
        runs.write_json(tmp / runs.MANIFEST, manifest)
    return out


def rebuild_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Render the report of an existing scenario run into a new folder (the run is not touched)."""
    import arviz as az
    import xarray as xr

    from forecast.data.loaders import load_dataset
    from forecast.fitting import POSTERIOR
    from forecast.report import write_report

    run_dir = Path(run_dir)
    manifest = runs.read_manifest(run_dir)
    if manifest.get("kind") != "run" or not (run_dir / "scenarios.nc").exists():
        raise InputError(run_dir, "is not a scenario run (no scenarios.nc); use `forecast run` first")
    data_name = manifest["data"]["name"]
    files = list(manifest["data"]["files"])
    dataset = load_dataset(None if data_name == "bundled" else files[0],
                           files[-1] if data_name != "bundled" and len(files) > 1 else None)
    if dataset.content_hash() != manifest["data"]["content_sha256"]:
        raise InputError(run_dir, "its data files have changed since the run; the report would not match")
    idata = az.from_netcdf(run_dir / POSTERIOR)
    draws = xr.load_dataset(run_dir / "scenarios.nc", engine="h5netcdf")
    target = Path(out) if out else runs.new_run_path(None, run_dir.parent, run_dir.name + "-report")
    if target.exists():
        raise InputError(target, "already exists; choose a new --out folder")
    with runs.staged_run(target) as tmp:
        write_report(tmp, idata, draws, manifest, dataset)
    return target
