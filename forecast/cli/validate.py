"""`forecast validate`: check scenario files against the data and the model without fitting."""

from __future__ import annotations

import argparse
import sys

from forecast.cli.common import MODEL_HELP, add_data_args, run_config
from forecast.config import DEFAULT_MODEL


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check scenario files without fitting",
                       description="Check scenario files (schema, dates, the data's fitted effects, the "
                       "model's shocks) without fitting. A file may be checked alone: its baseline is "
                       "checked too when given or when its file lies beside it. Dates after the "
                       "horizon are warned about on stderr (exit 0).")
    p.add_argument("scenarios", nargs="+", help="scenario TOML files")
    add_data_args(p)
    p.add_argument("--priors", help="TOML priors overriding the model's default priors per parameter")
    p.add_argument("--model", default=DEFAULT_MODEL, help=MODEL_HELP)
    p.add_argument("--models", help="check the files against each of these model families")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from forecast.simulation import horizon_warnings, prepare_scenarios

    config = run_config(args)
    if len(config.model_names) > 1:   # validating against several families needs no ensemble
        config = replace(config, ensemble="stacking")
    scenarios, dataset, _ = prepare_scenarios(config, alone=True)
    names = {s.name for s in scenarios}
    for s in scenarios:
        if s.baseline is None:
            base = ", no baseline"
        elif s.baseline in names:
            base = f", baseline {s.baseline}"
        else:
            base = f", baseline {s.baseline} not checked (pass its file too)"
        print(f"{s.source}: OK ({s.name}, {s.months} months{base})")
        warnings = horizon_warnings(s, dataset)
        if warnings:
            print(f"warning: {s.source}: " + "; ".join(warnings), file=sys.stderr)
    return 0
