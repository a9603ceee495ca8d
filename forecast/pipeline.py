"""`forecast run`: validate everything, fit or reuse a fit, simulate, write one run folder."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from forecast import runs
from forecast.errors import InputError

# Everything `forecast rerun` needs to repeat a run (paths as given, made absolute).
INPUT_KEYS = ("data", "events", "layout", "perpetrator", "target", "freq", "priors", "model", "models",
              "ensemble", "seed", "draws", "tune", "chains", "sampler", "target_accept", "mass_matrix",
              "allow_unconverged", "fit_dir")


def _absolute(value):
    if isinstance(value, str) and value != "bundled" and Path(value).exists():
        return str(Path(value).resolve())
    return value


def run_inputs(args: argparse.Namespace) -> dict:
    inputs = {key: _absolute(getattr(args, key, None)) for key in INPUT_KEYS}
    if getattr(args, "scenarios", None):
        inputs["scenarios"] = [str(Path(p).resolve()) for p in args.scenarios]
    return inputs


def load_data(args: argparse.Namespace):
    """The dataset named by --data/--events/--layout (counts, observations or an event export)."""
    if args.layout == "counts":
        from forecast.data.loaders import load_dataset

        return load_dataset(args.data, args.events)
    from forecast.data.exports import DEFAULT_PERPETRATORS, DEFAULT_TARGETS, export_to_dataset

    return export_to_dataset(args.data, args.layout, args.perpetrator or DEFAULT_PERPETRATORS,
                             args.target or DEFAULT_TARGETS, freq=args.freq, events=args.events)


def fit_settings(args: argparse.Namespace):
    from forecast.fitting import FitSettings

    return FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
                       sampler=args.sampler, target_accept=args.target_accept, mass_matrix=args.mass_matrix)


def model_names(args: argparse.Namespace) -> list[str]:
    """The model families named by --models a,b (or --model)."""
    names = [m.strip() for m in (getattr(args, "models", None) or "").split(",") if m.strip()]
    if not names:
        return [args.model]
    if len(set(names)) != len(names):
        raise InputError("command line", "--models lists a model twice")
    return names


def check_ensemble_options(args: argparse.Namespace, names: list[str]) -> None:
    """A run of several models is an ensemble: it needs a weighting and fits each model itself."""
    if len(names) > 1 and args.ensemble != "stacking":
        raise InputError("command line", "several --models need --ensemble stacking (how to weigh them)")
    if len(names) > 1 and args.fit_dir:
        raise InputError("command line", "--fit gives one posterior; an ensemble fits each of its --models")


def fit_for_args(args: argparse.Namespace, dataset, model_name: str | None = None):
    """Fit (or reuse the cached fit) and print the diagnostics line."""
    from forecast.fitting import fit

    root = Path(args.runs_root)
    model_name = model_name or args.model
    result = fit(dataset, model_name=model_name, priors_file=args.priors, settings=fit_settings(args),
                 cache_root=None if args.no_cache else root / ".cache",
                 progress=sys.stderr.isatty())
    if result.reused:
        print(f"reusing cached fit {result.manifest['fit_key']} (same data, priors, model and settings)")
    diag = result.manifest["diagnostics"]
    print(f"diagnostics: max r-hat {diag['max_rhat']:.3f}, min bulk ESS {diag['min_ess_bulk']:.0f}, "
          f"min tail ESS {diag['min_ess_tail']:.0f}, divergences {diag['divergences']}, "
          f"min E-BFMI {diag['min_bfmi']:.2f} -> {'passed' if diag['passed'] else 'FAILED'}")
    return result


def prepare_scenarios(args: argparse.Namespace):
    """Load and check scenario files, data and model: everything that can fail before sampling."""
    from forecast.fitting import make_model
    from forecast.scenarios.engine import check_horizons, make_simulator
    from forecast.scenarios.spec import load_scenarios

    scenarios = load_scenarios(args.scenarios)
    check_horizons(scenarios)
    dataset = load_data(args)
    models = [make_model(name, dataset, args.priors) for name in model_names(args)]
    for model in models:
        checker = make_simulator(model, None)
        for scenario in scenarios:
            checker.check(scenario)
    return scenarios, dataset, models


def run_scenarios(args: argparse.Namespace) -> Path:
    # 1. every input is checked before any sampling
    check_ensemble_options(args, model_names(args))
    scenarios, dataset, models = prepare_scenarios(args)
    out = runs.new_run_path(args.out, Path(args.runs_root), "run")
    if len(models) > 1:
        return _run_ensemble(args, scenarios, dataset, models, out)
    return _run_single(args, scenarios, dataset, models[0], out)


def _run_single(args: argparse.Namespace, scenarios, dataset, model, out: Path) -> Path:
    from forecast.fitting import POSTERIOR, gate, load_fit_run, verdict
    from forecast.scenarios.engine import simulate_scenarios
    from forecast.scenarios.summaries import write_tables

    # 2. the posterior: a given fit run, the cache, or a new fit
    if args.fit_dir:
        idata, fit_manifest = load_fit_run(args.fit_dir, args.allow_unconverged)
        if fit_manifest["data"]["content_sha256"] != dataset.content_hash():
            raise InputError(args.fit_dir, "this fit was made on other data than --data/--events give; "
                             "pass the same data, or fit again")
        if fit_manifest["priors"]["resolved"] != model.priors.to_dict():
            raise InputError(args.fit_dir, "this fit used other priors than --priors gives")
        fit_source = str(args.fit_dir)
        posterior_file = Path(args.fit_dir) / POSTERIOR
    else:
        result = fit_for_args(args, dataset, model.name)
        gate(result, args.allow_unconverged)
        idata, fit_manifest = result.idata, result.manifest
        fit_source = "cache" if result.reused else "new fit"
        posterior_file = result.posterior_file
    status = verdict(fit_manifest, args.allow_unconverged)

    # 3. simulate every scenario from the same draws and write the run
    draws = simulate_scenarios(model, idata.posterior, scenarios, args.seed)
    manifest = {
        **fit_manifest, "kind": "run", "verdict": status, "allow_unconverged": args.allow_unconverged,
        "fit_source": fit_source, "command": runs.command_line(),
        "scenario_seed": args.seed,
        "inputs": run_inputs(args),
        "scenarios": [{"name": s.name, "file": s.source, "sha256": s.sha256, "baseline": s.baseline}
                      for s in scenarios],
    }
    with runs.staged_run(out) as tmp:
        if posterior_file is not None:   # the same bytes, without serialising them again
            shutil.copyfile(posterior_file, tmp / POSTERIOR)
        else:
            idata.to_netcdf(str(tmp / POSTERIOR))
        draws.to_netcdf(tmp / "scenarios.nc", engine="h5netcdf")
        manifest["tables"] = write_tables(draws, tmp)
        if not args.no_report:
            from forecast.report import write_report

            write_report(tmp, idata, draws, manifest, dataset)
        runs.write_json(tmp / runs.MANIFEST, manifest)
    return out


def _run_ensemble(args: argparse.Namespace, scenarios, dataset, models, out: Path) -> Path:
    """Fit each model (gated), weigh them by stacking, mix their scenario draws."""
    from forecast.ensemble import compare_models, mix_scenario_draws, pareto_warnings
    from forecast.fitting import gate, verdict
    from forecast.scenarios.engine import simulate_scenarios
    from forecast.scenarios.summaries import write_tables

    results = {}
    for model in models:
        print(f"model {model.name}:")
        result = fit_for_args(args, dataset, model.name)
        gate(result, args.allow_unconverged)
        results[model.name] = result
    idatas = {name: r.idata for name, r in results.items()}
    table, high_k = compare_models(idatas)
    for line in pareto_warnings(high_k, len(dataset.fitted)):
        print(line, file=sys.stderr)
    weights = dict(zip(table["model"], table["weight"].astype(float)))
    print("stacking weights: " + ", ".join(f"{m} {w:.3f}" for m, w in weights.items()))
    per_model = {r.model.name: simulate_scenarios(r.model, r.idata.posterior, scenarios, args.seed)
                 for r in results.values()}
    draws = mix_scenario_draws(per_model, weights, args.seed)
    lead = max(weights, key=weights.get)
    statuses = {name: verdict(r.manifest, args.allow_unconverged) for name, r in results.items()}
    manifest = {
        **results[lead].manifest, "kind": "run",
        "verdict": "passed" if all(v == "passed" for v in statuses.values()) else "allowed_unconverged",
        "allow_unconverged": args.allow_unconverged, "command": runs.command_line(),
        "scenario_seed": args.seed, "inputs": run_inputs(args),
        "scenarios": [{"name": s.name, "file": s.source, "sha256": s.sha256, "baseline": s.baseline}
                      for s in scenarios],
        "ensemble": {"method": "stacking", "weights": weights, "lead_model": lead,
                     "loo": table.to_dict(orient="records"),
                     "pareto_k_above_0.7": high_k,
                     "fits": {name: {"fit_key": r.manifest["fit_key"], "verdict": statuses[name],
                                     "diagnostics": r.manifest["diagnostics"]}
                              for name, r in results.items()}},
    }
    with runs.staged_run(out) as tmp:
        for name, idata in idatas.items():
            idata.to_netcdf(str(tmp / f"posterior-{name}.nc"))
        draws.to_netcdf(tmp / "scenarios.nc", engine="h5netcdf")
        table.to_csv(tmp / "stacking.csv", index=False, float_format="%.6g")
        manifest["tables"] = write_tables(draws, tmp)
        if not args.no_report:
            from forecast.report import write_report

            write_report(tmp, idatas[lead], draws, manifest, dataset)
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
    inputs = manifest.get("inputs")
    if inputs:       # the data options the run was made with
        dataset = load_data(argparse.Namespace(**{k: inputs.get(k) for k in
                                                  ("data", "events", "layout", "perpetrator", "target",
                                                   "freq")}))
    else:
        data_name = manifest["data"]["name"]
        files = list(manifest["data"]["files"])
        dataset = load_dataset(None if data_name == "bundled" else files[0],
                               files[-1] if data_name != "bundled" and len(files) > 1 else None)
    if dataset.content_hash() != manifest["data"]["content_sha256"]:
        raise InputError(run_dir, "its data files have changed since the run; the report would not match")
    lead = manifest.get("ensemble", {}).get("lead_model")
    idata = az.from_netcdf(run_dir / (f"posterior-{lead}.nc" if lead else POSTERIOR))
    draws = xr.load_dataset(run_dir / "scenarios.nc", engine="h5netcdf")
    target = Path(out) if out else runs.new_run_path(None, run_dir.parent, run_dir.name + "-report")
    if target.exists():
        raise InputError(target, "already exists; choose a new --out folder")
    with runs.staged_run(target) as tmp:
        write_report(tmp, idata, draws, manifest, dataset)
    return target


def rerun(run_dir: str | Path, out: str | Path | None, refit: bool) -> tuple[Path, dict[str, bool]]:
    """Repeat a run from its manifest into a new folder and compare the outputs byte for byte."""
    from forecast.cli import build_parser

    run_dir = Path(run_dir)
    manifest = runs.read_manifest(run_dir)
    inputs = manifest.get("inputs")
    if manifest.get("kind") != "run" or not inputs:
        raise InputError(run_dir, "is not a scenario run with recorded inputs; nothing to rerun")
    for path in inputs["scenarios"]:
        if not Path(path).exists():
            raise InputError(path, "scenario file of the original run is gone; cannot rerun")
    recorded = {s["name"]: s["sha256"] for s in manifest["scenarios"]}
    argv = ["run", *inputs["scenarios"]]
    for key in ("data", "events", "layout", "priors", "model", "models", "ensemble", "seed", "draws",
                "tune", "chains", "sampler", "target_accept", "mass_matrix", "freq"):
        if inputs.get(key) is not None:
            argv += [f"--{key.replace('_', '-')}", str(inputs[key])]
    for key in ("perpetrator", "target"):
        for value in inputs.get(key) or []:
            argv += [f"--{key}", value]
    if inputs.get("allow_unconverged"):
        argv.append("--allow-unconverged")
    if inputs.get("fit_dir"):
        argv += ["--fit", inputs["fit_dir"]]
    if refit:
        argv.append("--no-cache")
    target = runs.new_run_path(out, run_dir.parent, run_dir.name + "-rerun")
    argv += ["--out", str(target), "--runs-root", str(run_dir.parent)]
    args = build_parser().parse_args(argv)
    new_path = run_scenarios(args)
    new_manifest = runs.read_manifest(new_path)
    changed = [s["file"] for s in new_manifest["scenarios"] if recorded.get(s["name"]) != s["sha256"]]
    if changed:
        raise InputError(changed[0], "scenario file changed since the original run; outputs cannot match")
    compared = {}
    for name in ("summary.csv", "totals.csv", "contrasts.csv", "exceedance.csv", "first_attack.csv"):
        compared[name] = (run_dir / name).read_bytes() == (new_path / name).read_bytes()
    compared["scenarios.nc draws"] = _same_draws(run_dir / "scenarios.nc", new_path / "scenarios.nc")
    for posterior in sorted(run_dir.glob("posterior*.nc")):
        compared[f"{posterior.name} draws"] = _same_posterior(posterior, new_path / posterior.name)
    return new_path, compared


def _same_draws(a: Path, b: Path) -> bool:
    import xarray as xr

    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y:
        return all(x[v].equals(y[v]) for v in ("rate", "count", "presence"))


def _same_posterior(a: Path, b: Path) -> bool:
    import arviz as az

    if not b.exists():
        return False
    x, y = az.from_netcdf(a).posterior, az.from_netcdf(b).posterior
    return all(x[v].equals(y[v]) for v in x.data_vars)
