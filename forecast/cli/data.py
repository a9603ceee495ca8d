"""`forecast data validate|show`: check or summarise a dataset."""

from __future__ import annotations

import argparse

from forecast.cli.common import add_data_args, data_source


def register_parser(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="validate or summarise a dataset")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    for name, text in (("validate", "check a data file; exit 2 with a message if it is malformed"),
                       ("show", "print a summary: months, counts per year, gaps, kinds, definitions")):
        p = data_sub.add_parser(name, help=text)
        add_data_args(p, positional=True)
        p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from forecast.data.summary import describe

    dataset = data_source(args).load()
    if args.data_command == "validate":
        fitted = dataset.fitted
        print(f"{args.data}: OK ({len(dataset.observations)} observation rows, {len(fitted)} fitted, "
              f"{dataset.axis.n} {dataset.axis.freq}s {dataset.axis.labels[0]}..{dataset.axis.labels[-1]}, "
              f"{len(dataset.events)} events)")
    else:
        print(describe(dataset))
    return 0
