"""Command line: a thin layer over the library. `main(argv) -> exit code`.

Exit codes: 0 success, 2 bad input (nothing written), 3 fit failed its diagnostics.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from forecast import runs
from forecast.errors import ForecastError

DATA_HELP = "'bundled' (default) or a CSV: counts (date,count[,series][,presence,...]) or observations"


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="bundled", help=DATA_HELP)
    p.add_argument("--events", help="events CSV (date,kind[,name][,end_date]); replaces the data's events")
    p.add_argument("--layout", choices=("counts", "acled", "ucdp"), default="counts",
                   help="layout of --data: counts/observations CSV, or an ACLED or UCDP GED export")
    p.add_argument("--perpetrator", action="append",
                   help="ACLED/UCDP: actor name fragment of the attackers (repeatable)")
    p.add_argument("--target", action="append",
                   help="ACLED/UCDP: actor name fragment of the targets (repeatable)")
    p.add_argument("--freq", choices=("month", "week"), default="month",
                   help="ACLED/UCDP: bins to count events in")


def _add_fit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--priors", help="TOML priors overriding priors/default.toml per parameter")
    p.add_argument("--model", default="latent_ar",
                   help="model family: latent_ar (default), hawkes, hawkes_powerlaw")
    p.add_argument("--seed", type=int, default=20240128)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=500)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--sampler", default="nutpie", help="nutpie (default) or pymc")
    p.add_argument("--target-accept", type=float, default=0.99, help="NUTS target acceptance rate")
    p.add_argument("--mass-matrix", default="draws",
                   help="nutpie's mass matrix adaptation: draws (default; variance of the tuning "
                        "draws) or gradients (nutpie's own, from draw and gradient variances)")
    p.add_argument("--allow-unconverged", action="store_true",
                   help="use a fit that failed the diagnostics gate (reports say so)")
    p.add_argument("--no-cache", action="store_true", help="refit even if a cached fit exists")
    p.add_argument("--runs-root", default=str(runs.DEFAULT_ROOT),
                   help="where new runs and the fit cache live (default ./runs)")


def cmd_data(args: argparse.Namespace) -> int:
    from forecast.data.summary import describe
    from forecast.pipeline import load_data

    dataset = load_data(args)
    if args.data_command == "validate":
        fitted = dataset.fitted
        print(f"{args.data}: OK ({len(dataset.observations)} observation rows, {len(fitted)} fitted, "
              f"{dataset.axis.n} {dataset.axis.freq}s {dataset.axis.labels[0]}..{dataset.axis.labels[-1]}, "
              f"{len(dataset.events)} events)")
    else:
        print(describe(dataset))
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from forecast.fitting import gate, write_fit_run
    from forecast.pipeline import fit_for_args, load_data, run_inputs

    dataset = load_data(args)
    out = runs.new_run_path(args.out, Path(args.runs_root), "fit")
    result = fit_for_args(args, dataset)
    path, status = write_fit_run(result, out, args.allow_unconverged, inputs=run_inputs(args))
    print(f"wrote {path} (verdict: {status})")
    gate(result, args.allow_unconverged)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from forecast.pipeline import prepare_scenarios

    scenarios, _, _ = prepare_scenarios(args)
    for s in scenarios:
        print(f"{s.source}: OK ({s.name}, {s.months} months"
              + (f", baseline {s.baseline}" if s.baseline else ", no baseline") + ")")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from forecast.pipeline import run_scenarios

    started = time.perf_counter()
    path = run_scenarios(args)
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from forecast.pipeline import rebuild_report

    print(f"wrote {rebuild_report(args.run_dir, args.out)}")
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    from forecast.pipeline import rerun

    path, compared = rerun(args.run_dir, args.out, refit=not args.reuse_fit)
    for name, same in compared.items():
        print(f"{name}: {'identical' if same else 'DIFFERENT'}")
    print(f"wrote {path}")
    return 0 if all(compared.values()) else 1


def cmd_compare(args: argparse.Namespace) -> int:
    from forecast.compare import compare_runs

    print(compare_runs(args.run_dirs, refit_high_k=args.refit_high_k))
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from forecast.evaluation.cli import backtest_command

    started = time.perf_counter()
    path = backtest_command(args)
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forecast", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="validate or summarise a dataset")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    for name, text in (("validate", "check a data file; exit 2 with a message if it is malformed"),
                       ("show", "print a summary: months, counts per year, gaps, kinds, definitions")):
        p = data_sub.add_parser(name, help=text)
        p.add_argument("data", nargs="?" if name == "show" else None, default="bundled", help=DATA_HELP)
        p.add_argument("--events")
        p.add_argument("--layout", choices=("counts", "acled", "ucdp"), default="counts")
        p.add_argument("--perpetrator", action="append")
        p.add_argument("--target", action="append")
        p.add_argument("--freq", choices=("month", "week"), default="month")
        p.set_defaults(func=cmd_data)

    fit = sub.add_parser("fit", help="fit a model and write a fit run")
    _add_data_args(fit)
    _add_fit_args(fit)
    fit.add_argument("--out", help="new folder for the run (default runs/<time>-fit)")
    fit.set_defaults(func=cmd_fit)

    run = sub.add_parser("run", help="fit (or reuse a fit) and simulate scenarios")
    run.add_argument("scenarios", nargs="+", help="scenario TOML files")
    _add_data_args(run)
    _add_fit_args(run)
    run.add_argument("--fit", dest="fit_dir", help="use the posterior of this fit run instead of fitting")
    run.add_argument("--models", help="several model families, e.g. latent_ar,hawkes (needs --ensemble)")
    run.add_argument("--ensemble", choices=("stacking",),
                     help="weigh the --models' forecasts by LOO stacking weights")
    run.add_argument("--out", help="new folder for the run (default runs/<time>-run)")
    run.add_argument("--no-report", action="store_true", help="skip report.html and summary.md")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser("report", help="(re)write report.html of a scenario run into a new folder")
    report.add_argument("run_dir")
    report.add_argument("--out", help="new folder for the report (default RUN_DIR-report-N)")
    report.set_defaults(func=cmd_report)

    rerun = sub.add_parser("rerun", help="repeat a run from its manifest and compare the outputs")
    rerun.add_argument("run_dir")
    rerun.add_argument("--out", help="new folder for the repeated run")
    rerun.add_argument("--reuse-fit", action="store_true",
                       help="reuse the cached fit instead of sampling again")
    rerun.set_defaults(func=cmd_rerun)

    validate = sub.add_parser("validate", help="check scenario files without fitting")
    validate.add_argument("scenarios", nargs="+")
    _add_data_args(validate)
    validate.add_argument("--priors")
    validate.add_argument("--model", default="latent_ar")
    validate.add_argument("--models", help="check the files against each of these model families")
    validate.set_defaults(func=cmd_validate)

    compare = sub.add_parser("compare", help="PSIS-LOO comparison and stacking weights of fitted runs")
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                         help="fit or scenario runs on the same data")
    compare.add_argument("--refit-high-k", action="store_true",
                         help="score the latent AR's observations with Pareto k > 0.7 by exact "
                              "leave-one-out refits (one fit each)")
    compare.set_defaults(func=cmd_compare)

    backtest = sub.add_parser("backtest", help="rolling-origin backtest of the model against baselines")
    _add_data_args(backtest)
    from forecast.evaluation.cli import add_backtest_args

    add_backtest_args(backtest)
    backtest.set_defaults(func=cmd_backtest)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return args.func(args)
    except ForecastError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; no partial run was left behind", file=sys.stderr)
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
