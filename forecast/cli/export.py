"""`forecast export RUN_DIR --format hubverse`: a scenario run's forecasts as a long table."""

from __future__ import annotations

import argparse


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a run's forecasts in a standard layout (hubverse)")
    p.add_argument("run_dir", help="a scenario run folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
