"""`forecast report RUN_DIR`: render a scenario run's report again, into a new folder."""

from __future__ import annotations

import argparse


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="(re)write report.html of a scenario run into a new folder")
    p.add_argument("run_dir", help="a scenario run folder")
    p.add_argument("--out", help="new folder for the report (default: beside RUN_DIR, named "
                   "<time>-<run name>-report)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from forecast.workflows import rebuild_report

    print(f"wrote {rebuild_report(args.run_dir, args.out)}")
    return 0
