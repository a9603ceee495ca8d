"""The commands as library functions over a `RunConfig`: fit, run, validate, report, rerun.

Everything that can fail is checked before any sampling; runs are written atomically.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from forecast import runs
from forecast.checks import checks_table
from forecast.config import RunConfig, run_config
from forecast.data.dataset import Dataset
from forecast.errors import InputError
from forecast.families import Family, make_family
from forecast.fitting import (
    POSTERIOR,
    FitResult,
    fit,
    fit_section,
    gate,
    load_fit_run,
    read_posterior,
    space_needed,
    verdict,
    write_fit_run,
)
from forecast.outputs import tidy_posterior
from forecast.prior_dependence import prior_dependence_table
from forecast.reporting.scenario_report import write_report
from forecast.scenarios.spec import Scenario, load_scenarios
from forecast.scenarios.summaries import write_tables
from forecast.simulation import prepare_scenarios, simulate_scenarios


def fit_for_config(config: RunConfig, dataset: Dataset, model_name: str | None = None) -> FitResult:
    """Fit (or reuse the cached fit) and print the diagnostics line."""
    root = Path(config.runs_root)
    result = fit(dataset, model_name=model_name or config.model, priors_file=config.priors,
                 settings=config.fit, cache_root=root / ".cache" if config.use_cache else None,
                 progress=sys.stderr.isatty())
    if result.reused:
        print(f"reusing cached fit {result.manifest['fit_key']} (same data, priors, model and settings)")
    diag = result.manifest["diagnostics"]
    print(f"diagnostics: max r-hat {diag['max_rhat']:.3f}, min bulk ESS {diag['min_ess_bulk']:.0f}, "
          f"min tail ESS {diag['min_ess_tail']:.0f}, divergences {diag['divergences']}, "
          f"min E-BFMI {diag['min_bfmi']:.2f} -> {'passed' if diag['passed'] else 'FAILED'}")
    return result


def fit_only(config: RunConfig, out: str | Path | None = None) -> tuple[Path, str]:
    """`forecast fit`: fit (or reuse) and write a fit run; raises ConvergenceError after writing."""
    config.check()
    config.check_files()
    dataset = config.data.load()
    target = runs.new_run_path(out, Path(config.runs_root), "fit")
    runs.check_output(target, space_needed(dataset, config.fit))
    started = datetime.now(UTC)
    result = fit_for_config(config, dataset)
    stored = replace(result, idata=tidy_posterior(result.idata, result.model.internal_variables))
    path, status = write_fit_run(stored, target, config.allow_unconverged,
                                 extra={"config": config.to_manifest(), **_run_times(started)})
    gate(result, config.allow_unconverged)
    return path, status


def run_scenarios(config: RunConfig, out: str | Path | None = None, report: bool = True,
                  executor: Any = "local", max_workers: int = 2) -> Path:
    """`forecast run`: every input checked, then fit or reuse, simulate, write one run folder.

    `executor` and `max_workers` spread an ensemble's leave-future-out refits ('serial',
    'local' processes or a Dask scheduler address); the results do not depend on them.
    """
    scenarios, dataset, families = prepare_scenarios(config)
    target = runs.new_run_path(out, Path(config.runs_root), "run")
    runs.check_output(target, len(families) * space_needed(dataset, config.fit))
    if len(families) > 1:
        return _run_ensemble(config, scenarios, dataset, families, target, report, executor, max_workers)
    return _run_single(config, scenarios, dataset, families[0], target, report)


def _run_times(started: datetime) -> dict[str, Any]:
    """The run's own times (a reused fit keeps its own in the manifest's `fit` section)."""
    finished = datetime.now(UTC)
    return {"created": finished.isoformat(timespec="seconds"),
            "wall_seconds": round((finished - started).total_seconds(), 1)}


def scenario_records(scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """The scenarios as a run's manifest records them (rerun checks the hashes)."""
    return [{"name": s.name, "file": s.source, "sha256": s.sha256, "baseline": s.baseline} for s in scenarios]


def write_checks(folder: Path, family: Family, posterior: xr.Dataset) -> pd.DataFrame:
    """checks.csv: every observation against its posterior predictive; returned for the report."""
    checks = checks_table(family, posterior)
    checks.to_csv(folder / "checks.csv", index=False, float_format="%.6g", lineterminator="\n")
    return checks


def write_prior_dependence(folder: Path, family: Family, posterior: xr.Dataset, scenarios: list[Scenario],
                           draws: xr.Dataset, seed: int) -> pd.DataFrame:
    """prior_dependence.csv: how much of each contrast the prior decides; returned for the report."""
    table = prior_dependence_table(family, posterior, scenarios, draws, seed)
    if len(table):
        table.to_csv(folder / "prior_dependence.csv", index=False, float_format="%.4f", lineterminator="\n")
    return table


def _run_single(config: RunConfig, scenarios: list[Scenario], dataset: Dataset, family: Family,
                out: Path, report: bool) -> Path:
    started = datetime.now(UTC)
    # the posterior: a given fit run, the cache, or a new fit
    if config.fit_dir:
        idata, fit_manifest = load_fit_run(config.fit_dir, config.allow_unconverged)
        if fit_manifest.get("model") != family.name:
            raise InputError(config.fit_dir, f"this fit is of model {fit_manifest.get('model')!r}, not "
                             f"{family.name!r}; pass --model {fit_manifest.get('model')}")
        if fit_manifest["data"]["content_sha256"] != dataset.content_hash():
            raise InputError(config.fit_dir, "this fit was made on other data than --data/--events give; "
                             "pass the same data, or fit again")
        if fit_manifest["priors"]["resolved"] != family.priors.to_dict():
            raise InputError(config.fit_dir, "this fit used other priors than --priors gives")
        fit_source = str(config.fit_dir)
        posterior_file: Path | None = Path(config.fit_dir) / POSTERIOR
    else:
        result = fit_for_config(config, dataset, family.name)
        gate(result, config.allow_unconverged)
        idata, fit_manifest = result.idata, result.manifest
        fit_source = "cache" if result.reused else "new fit"
        posterior_file = result.posterior_file
    status = verdict(fit_manifest, config.allow_unconverged)

    # simulate every scenario from the same draws and write the run
    loaded_from = (fit_source if posterior_file is None or fit_source == "new fit"
                   else str(posterior_file.parent))
    draws = _simulate_loaded(family, idata, scenarios, config.scenario_seed, loaded_from)
    manifest = {
        **fit_manifest, "kind": "run", "verdict": status, "allow_unconverged": config.allow_unconverged,
        "fit_source": fit_source, "command": runs.command_line(),
        "fit": fit_section(fit_manifest),
        "scenario_seed": config.scenario_seed, "config": config.to_manifest(),
        "scenarios": scenario_records(scenarios),
    }
    with runs.staged_run(out) as stage:
        tmp = stage.dir
        tidy_posterior(idata, family.internal_variables).to_netcdf(str(tmp / POSTERIOR))
        draws.to_netcdf(tmp / "scenarios.nc", engine="h5netcdf")
        manifest["tables"] = write_tables(draws, tmp)
        checks = write_checks(tmp, family, idata.posterior)
        dependence = write_prior_dependence(tmp, family, idata.posterior, scenarios, draws,
                                            config.scenario_seed)
        if report:
            write_report(tmp, idata, draws, manifest, dataset, family, checks, dependence)
        manifest.update(_run_times(started))
        manifest["files_sha256"] = runs.files_sha256(tmp)
        runs.write_json(tmp / runs.MANIFEST, manifest, seal=True)
    return stage.final


def ensemble_weights(config: RunConfig, dataset: Dataset, idatas: dict[str, az.InferenceData],
                     executor: Any = "local", max_workers: int = 2) -> tuple[pd.DataFrame, dict[str, Any],
                                                                             pd.DataFrame | None]:
    """The weights table, the manifest record of how it was made, and (LFO) the pointwise densities.

    LFO (the default) refits every model at the last `config.lfo_origins` bins on `executor`;
    LOO is PSIS-LOO of the full fits, labelled as describing the history.
    """
    from forecast.ensemble import LOO_LABEL, compare_models, lfo_label, pareto_warnings, pointwise_weights

    if config.weights_from == "loo":
        table, high_k = compare_models(idatas, method=config.ensemble or "stacking",
                                       seed=config.scenario_seed)
        for line in pareto_warnings(high_k, len(dataset.fitted)):
            print(line, file=sys.stderr)
        return table, {"weights_from": "loo", "label": LOO_LABEL, "pareto_k_above_0.7": high_k}, None

    from forecast.evaluation.lfo import lfo_log_densities

    lpd, frame, origins = lfo_log_densities(dataset, tuple(idatas), config.lfo_origins, config.lfo_steps,
                                            config.fit, config.fit.seed, executor=executor,
                                            max_workers=max_workers, priors_file=config.priors)
    table = pointwise_weights(lpd, config.ensemble or "stacking", seed=config.scenario_seed)
    notes = frame[frame["note"].astype(str) != ""][["model", "origin", "note"]].drop_duplicates()
    for rec in notes.to_dict("records"):
        print(f"WARNING: leave-future-out fit of {rec['model']} at {rec['origin']}: {rec['note']}",
              file=sys.stderr)
    record = {"weights_from": "lfo", "label": lfo_label(config.lfo_steps, len(origins)),
              "origins": [dataset.axis.labels[o] for o in origins], "steps": config.lfo_steps,
              "n_points": len(lpd), "notes": notes.to_dict(orient="records"), "pareto_k_above_0.7": {}}
    return table, record, lpd


def _run_ensemble(config: RunConfig, scenarios: list[Scenario], dataset: Dataset, families: list[Family],
                  out: Path, report: bool, executor: Any = "local", max_workers: int = 2) -> Path:
    """Fit each model (gated), weigh them (LFO by default), mix their scenario draws."""
    from forecast.ensemble import mix_scenario_draws

    started = datetime.now(UTC)
    results: dict[str, FitResult] = {}
    for family in families:
        print(f"model {family.name}:")
        result = fit_for_config(config, dataset, family.name)
        gate(result, config.allow_unconverged)
        results[family.name] = result
    idatas = {name: r.idata for name, r in results.items()}
    table, how, lpd = ensemble_weights(config, dataset, idatas, executor, max_workers)
    method = config.ensemble or "stacking"
    weights = dict(zip(table["model"], table["weight"].astype(float)))
    print(f"{method} weights from {how['label']}: " + ", ".join(f"{m} {w:.3f}" for m, w in weights.items()))
    per_model = {r.model.name: simulate_scenarios(r.model, r.idata.posterior, scenarios, config.scenario_seed)
                 for r in results.values()}
    draws = mix_scenario_draws(per_model, weights, config.scenario_seed, how=f"{method} ({how['label']})")
    lead = max(weights, key=weights.get)
    statuses = {name: verdict(r.manifest, config.allow_unconverged) for name, r in results.items()}
    records = table.assign(weights_from=how["label"]).to_dict(orient="records")
    manifest = {
        **results[lead].manifest, "kind": "run",
        "verdict": "passed" if all(v == "passed" for v in statuses.values()) else "allowed_unconverged",
        "allow_unconverged": config.allow_unconverged, "command": runs.command_line(),
        "scenario_seed": config.scenario_seed, "config": config.to_manifest(),
        "scenarios": scenario_records(scenarios),
        "ensemble": {"method": method, **how, "weights": weights, "lead_model": lead, "table": records,
                     # the same table under the key the scenario report read before LFO existed
                     "loo": records,
                     "fits": {name: {"fit_key": r.manifest["fit_key"], "verdict": statuses[name],
                                     "diagnostics": r.manifest["diagnostics"]}
                              for name, r in results.items()}},
    }
    with runs.staged_run(out) as stage:
        tmp = stage.dir
        for name, idata in idatas.items():
            tidy_posterior(idata, results[name].model.internal_variables).to_netcdf(
                str(tmp / f"posterior-{name}.nc"))
        draws.to_netcdf(tmp / "scenarios.nc", engine="h5netcdf")
        table.assign(weights_from=how["label"]).to_csv(tmp / "weights.csv", index=False, float_format="%.6g")
        if lpd is not None:
            lpd.to_csv(tmp / "lfo_pointwise.csv", float_format="%.6g")
        manifest["tables"] = write_tables(draws, tmp)
        checks = write_checks(tmp, results[lead].model, idatas[lead].posterior)
        # of the lead model's own draws: the mixture has no single prior
        dependence = write_prior_dependence(tmp, results[lead].model, idatas[lead].posterior, scenarios,
                                            per_model[lead], config.scenario_seed)
        if report:
            write_report(tmp, idatas[lead], draws, manifest, dataset, results[lead].model, checks, dependence)
        manifest.update(_run_times(started))
        manifest["files_sha256"] = runs.files_sha256(tmp)
        runs.write_json(tmp / runs.MANIFEST, manifest, seal=True)
    return stage.final


def _simulate_loaded(family: Family, idata: az.InferenceData, scenarios: list[Scenario], seed: int,
                     source: str) -> xr.Dataset:
    """Simulate from a posterior; one read from a run folder may lack a variable the family needs."""
    try:
        return simulate_scenarios(family, idata.posterior, scenarios, seed)
    except KeyError as exc:
        if source == "new fit":
            raise
        raise runs.IncompleteRun(source, f"its posterior lacks a variable model {family.name} needs "
                                 f"({str(exc)[:120]})") from None


def _config_of(run_dir: Path, manifest: dict[str, Any]) -> RunConfig:
    """A run's recorded configuration, checked; errors name the manifest, not the command line."""
    config = run_config(run_dir, manifest)
    try:
        config.check()
    except InputError as exc:
        raise runs.IncompleteRun(run_dir, f"its recorded configuration is invalid: "
                                 f"{exc.detail.replace('--', 'config ')}") from None
    return config


def rebuild_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Render the report of an existing scenario run into a new folder (the run is not touched)."""
    run_dir = Path(run_dir).resolve()    # `forecast report .` must not write inside the run
    manifest = runs.load_run(run_dir, kinds=("run",))
    config = _config_of(run_dir, manifest)
    target = runs.new_run_path(out, run_dir.parent, run_dir.name + "-report")
    runs.check_output(target)
    config.check_files()
    dataset = config.data.load()
    if dataset.content_hash() != manifest["data"]["content_sha256"]:
        raise InputError(run_dir, "its data files have changed since the run; the report would not match")
    lead = manifest.get("ensemble", {}).get("lead_model")
    family = make_family(lead or manifest["model"], dataset, config.priors)
    name = f"posterior-{lead}.nc" if lead else POSTERIOR
    idata = read_posterior(run_dir / name, intact=name in (manifest.get("files_sha256") or {}))
    try:
        draws = xr.load_dataset(run_dir / "scenarios.nc", engine="h5netcdf")
        names = [str(n) for n in draws["scenario"].values]
    except Exception as exc:   # noqa: BLE001 - the netCDF stack raises many types for one bad file
        raise runs.IncompleteRun(run_dir, f"scenarios.nc cannot be read: {type(exc).__name__}") from None
    if names != [s["name"] for s in manifest["scenarios"]]:
        raise runs.IncompleteRun(run_dir, "scenarios.nc holds other scenarios than its manifest lists")
    with runs.staged_run(target) as stage:
        checks = checks_table(family, idata.posterior)
        dependence = (pd.read_csv(run_dir / "prior_dependence.csv")
                      if (run_dir / "prior_dependence.csv").exists() else None)
        write_report(stage.dir, idata, draws, manifest, dataset, family, checks, dependence,
                     tables_from=run_dir)
    return stage.final


def rerun(run_dir: str | Path, out: str | Path | None, refit: bool) -> tuple[Path, dict[str, bool]]:
    """Repeat a run from its recorded configuration into a new folder; compare the outputs."""
    run_dir = Path(run_dir).resolve()    # `forecast rerun .` must not write inside the run
    manifest = runs.load_run(run_dir, kinds=("run",))
    config = _config_of(run_dir, manifest)
    # checked before any work: the scenario files must be the ones the run used
    recorded = manifest["scenarios"]
    if len(recorded) != len(config.scenarios):
        raise InputError(run_dir, "its manifest lists other scenarios than its configuration")
    for path in config.scenarios:
        if not os.path.lexists(path):
            raise InputError(path, "scenario file of the original run is gone; cannot rerun")
    for scenario, record in zip(load_scenarios(list(config.scenarios)), recorded):
        if scenario.sha256 != record["sha256"]:
            raise InputError(scenario.source, "scenario file changed since the original run; outputs "
                             "cannot match")
    _check_outputs(run_dir, manifest)
    config = replace(config, use_cache=not refit, runs_root=str(run_dir.parent))
    target = runs.new_run_path(out, run_dir.parent, run_dir.name + "-rerun")
    runs.check_output(target)
    new_path = run_scenarios(config, target)
    compared = {}
    for name in ("summary.csv", "totals.csv", "contrasts.csv", "exceedance.csv", "first_attack.csv",
                 "checks.csv", "weights.csv"):
        if (run_dir / name).exists():      # runs of older versions have no checks.csv
            compared[name] = (run_dir / name).read_bytes() == (new_path / name).read_bytes()
    compared["scenarios.nc draws"] = _same_draws(run_dir / "scenarios.nc", new_path / "scenarios.nc")
    for posterior in sorted(run_dir.glob("posterior*.nc")):
        compared[f"{posterior.name} draws"] = _same_posterior(posterior, new_path / posterior.name)
    return new_path, compared


DRAW_VARIABLES = ("rate", "count", "presence")


def _check_outputs(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Before the work of a rerun: the outputs it will be compared with can be read."""
    recorded = manifest.get("files_sha256") or {}
    for name in runs.run_files(manifest):
        if name.startswith("posterior"):
            read_posterior(run_dir / name, intact=name in recorded)
    try:
        with xr.open_dataset(run_dir / "scenarios.nc", engine="h5netcdf") as draws:
            missing = [v for v in DRAW_VARIABLES if v not in draws]
    except Exception as exc:   # noqa: BLE001 - the netCDF stack raises many types for one bad file
        raise runs.IncompleteRun(run_dir, f"scenarios.nc cannot be read: {type(exc).__name__}") from None
    if missing:
        raise runs.IncompleteRun(run_dir, f"scenarios.nc has no {missing[0]!r} draws")


def _same_draws(a: Path, b: Path) -> bool:
    """The same draws (values; runs of older versions had text month coordinates)."""
    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y:
        return all(x[v].equals(y[v]) for v in DRAW_VARIABLES)


def _same_posterior(a: Path, b: Path) -> bool:
    """The same draws of every variable both files hold (older runs also kept internal ones)."""
    if not b.exists():
        return False
    x, y = az.from_netcdf(a).posterior, az.from_netcdf(b).posterior
    shared = set(x.data_vars) & set(y.data_vars)
    return bool(shared) and all(np.array_equal(x[v].values, y[v].values, equal_nan=True) for v in shared)
