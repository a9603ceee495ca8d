"""`forecast scenario new|docs`: start a scenario file; print the scenario file reference."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecast.errors import InputError


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenario", help="write a new scenario file from a template, or print the reference")
    scenario_sub = p.add_subparsers(dest="scenario_command", required=True, metavar="SUBCOMMAND")
    new = scenario_sub.add_parser("new", help="write a commented scenario file that `forecast validate` "
                                  "accepts (never over an existing file)")
    new.add_argument("name", help="the scenario's name: letters, digits, _ or - (at most 64)")
    new.add_argument("--out", help="file to write (default scenarios/NAME.toml)")
    new.set_defaults(run=run_new)
    docs = scenario_sub.add_parser("docs", help="print the scenario file reference (docs/scenarios.md) "
                                   "in Markdown")
    docs.set_defaults(run=run_docs)


def run_new(args: argparse.Namespace) -> int:
    from forecast.scenarios.reference import template
    from forecast.scenarios.spec import NAME_RE, parse_scenario

    if not NAME_RE.match(args.name):
        raise InputError("command line", f"scenario name {args.name!r}: expected letters, digits, _ or - "
                         "(at most 64 characters)")
    path = Path(args.out) if args.out else Path("scenarios") / f"{args.name}.toml"
    if not path.parent.is_dir():
        raise InputError(path, f"folder {path.parent} does not exist; create it or choose another --out")
    text = template(args.name, str(path))
    parse_scenario(text, str(path))           # the template is valid by construction; make sure
    try:
        with path.open("x", encoding="utf-8") as handle:    # "x": never over an existing file
            handle.write(text)
    except FileExistsError:
        raise InputError(path, "already exists; choose another name or --out (nothing was written)") from None
    print(f"wrote {path}; edit it, then: forecast validate {path}")
    return 0


def run_docs(args: argparse.Namespace) -> int:
    print(reference_markdown(), end="")
    return 0


def reference_markdown() -> str:
    """docs/scenarios.md, from the schema, the registry's shocks and the bundled data's effect groups."""
    from forecast.config import DataSource
    from forecast.core.effects import kind_designs
    from forecast.families import FAMILIES
    from forecast.scenarios.reference import EXAMPLE, markdown

    dataset = DataSource().load()
    groups = {d.kind: list(d.groups) for d in kind_designs(dataset.events, dataset.axis)}
    shocks = {name: dict(family.shocks) for name, family in FAMILIES.items()}
    return markdown(shocks, groups, EXAMPLE)
