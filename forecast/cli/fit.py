"""`forecast fit`: fit a model (or reuse the cached fit) and write a fit run."""

from __future__ import annotations

import argparse

from forecast.cli.common import add_data_args, add_fit_args, run_config


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="fit a model and write a fit run")
    add_data_args(p)
    add_fit_args(p)
    p.add_argument("--out", help="new folder for the run (default runs/<time>-fit)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from forecast.workflows import fit_only

    path, status = fit_only(run_config(args), args.out)
    print(f"wrote {path} (verdict: {status})")
    return 0
