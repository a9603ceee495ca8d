"""`forecast compare RUN_DIR...`: PSIS-LOO and stacking weights of fitted runs on the same data."""

from __future__ import annotations

import argparse


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="PSIS-LOO comparison and stacking weights of fitted runs")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="fit or scenario runs on the same data")
    p.add_argument("--refit-high-k", action="store_true",
                   help="score observations with Pareto k > 0.7 by exact leave-one-out refits (one fit "
                        "each), for the families that support it")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from forecast.evaluation.loo import compare_runs

    print(compare_runs(args.run_dirs, refit_high_k=args.refit_high_k))
    return 0
