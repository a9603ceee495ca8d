"""`forecast run`: fit (or reuse a fit) and simulate scenario files into a new run folder."""

from __future__ import annotations

import argparse
import time

from forecast.cli.common import add_data_args, add_fit_args, run_config


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="fit (or reuse a fit) and simulate scenarios")
    p.add_argument("scenarios", nargs="+", help="scenario TOML files")
    add_data_args(p)
    add_fit_args(p)
    p.add_argument("--fit", dest="fit_dir", help="use the posterior of this fit run instead of fitting")
    p.add_argument("--models", help="several model families, e.g. latent_ar,hawkes (needs --ensemble)")
    p.add_argument("--ensemble", choices=("stacking", "pseudo-bma"),
                   help="weigh the --models' forecasts by stacking or pseudo-BMA+ weights")
    p.add_argument("--weights-from", choices=("lfo", "loo"), default="lfo",
                   help="lfo (default): leave-future-out, each model refitted at the last --lfo-origins "
                        "bins and scored --lfo-steps bins ahead; loo: PSIS leave-one-out of the full "
                        "fits (describes the history, rewards interpolation)")
    p.add_argument("--lfo-origins", type=int, default=6, help="leave-future-out origins (default 6)")
    p.add_argument("--lfo-steps", type=int, default=1,
                   help="bins ahead the leave-future-out targets lie (default 1: one-step-ahead)")
    p.add_argument("--workers", type=int, default=2,
                   help="local processes for the leave-future-out refits (default 2)")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) for the leave-future-out "
                   "refits; default: local processes")
    p.add_argument("--out", help="new folder for the run (default runs/<time>-run)")
    p.add_argument("--no-report", action="store_true", help="skip report.html and summary.md")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from forecast import runs
    from forecast.cli.terminal import print_run_results, warn_unconverged
    from forecast.workflows import run_scenarios

    started = time.perf_counter()
    path = run_scenarios(run_config(args), args.out, report=not args.no_report,
                         executor=args.scheduler or "local", max_workers=args.workers)
    print_run_results(path)
    warn_unconverged(runs.read_manifest(path).get("verdict", ""))
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")
    return 0
