"""`forecast rerun RUN_DIR`: repeat a run from its recorded configuration and compare outputs."""

from __future__ import annotations

import argparse


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rerun", help="repeat a run from its manifest and compare the outputs")
    p.add_argument("run_dir", help="a scenario run folder")
    p.add_argument("--out", help="new folder for the repeated run (default: beside RUN_DIR, named "
                   "<time>-<run name>-rerun)")
    p.add_argument("--reuse-fit", action="store_true", help="reuse the cached fit instead of sampling again")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from forecast.workflows import rerun

    path, compared = rerun(args.run_dir, args.out, refit=not args.reuse_fit)
    for name, same in compared.items():
        print(f"{name}: {'identical' if same else 'DIFFERENT'}")
    print(f"wrote {path}")
    return 0 if all(compared.values()) else 1
