"""`forecast validate`: check scenario files against the data and the model without fitting."""

from __future__ import annotations

import argparse

from forecast.cli.common import MODEL_HELP, add_data_args, run_config


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check scenario files without fitting")
    p.add_argument("scenarios", nargs="+", help="scenario TOML files")
    add_data_args(p)
    p.add_argument("--priors", help="TOML priors overriding the model's default priors per parameter")
    p.add_argument("--model", default="latent_ar", help=MODEL_HELP)
    p.add_argument("--models", help="check the files against each of these model families")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from forecast.workflows import prepare_scenarios

    config = run_config(args)
    if len(config.model_names) > 1:   # validating against several families needs no ensemble
        config = replace(config, ensemble="stacking")
    scenarios, _, _ = prepare_scenarios(config)
    for s in scenarios:
        print(f"{s.source}: OK ({s.name}, {s.months} months"
              + (f", baseline {s.baseline}" if s.baseline else ", no baseline") + ")")
    return 0
