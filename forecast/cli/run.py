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
    p.add_argument("--ensemble", choices=("stacking",),
                   help="weigh the --models' forecasts by LOO stacking weights")
    p.add_argument("--out", help="new folder for the run (default runs/<time>-run)")
    p.add_argument("--no-report", action="store_true", help="skip report.html and summary.md")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from forecast import runs
    from forecast.cli.terminal import print_run_results, warn_unconverged
    from forecast.workflows import run_scenarios

    started = time.perf_counter()
    path = run_scenarios(run_config(args), args.out, report=not args.no_report)
    print_run_results(path)
    warn_unconverged(runs.read_manifest(path).get("verdict", ""))
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")
    return 0
