"""Fuzz the command line in-process and print cases, tracebacks and damage per command.

    python scripts/fuzz_cli.py [--only corpus|options|tampers|paths] [--show-failures]

Runs the harness of tests/fuzz (a faked sampler, a sandbox copied for every case) outside
pytest; the exit code is 1 when any case failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz import cases as fuzz_cases  # noqa: E402
from tests.fuzz.driver import run_cases  # noqa: E402
from tests.fuzz.harness import failures, table  # noqa: E402

SOURCES = {"corpus": fuzz_cases.corpus_cases, "options": fuzz_cases.option_cases,
           "tampers": fuzz_cases.tamper_cases, "paths": fuzz_cases.path_cases}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(SOURCES), action="append", help="case sources (default all)")
    parser.add_argument("--show-failures", action="store_true", help="print each failed case and why")
    args = parser.parse_args()
    chosen = [case for name in (args.only or list(SOURCES)) for case in SOURCES[name]()]
    started = time.perf_counter()
    results = run_cases(chosen, progress=True)
    print(table(results))
    print(f"{len(results)} cases in {time.perf_counter() - started:.0f} s")
    if args.show_failures:
        print(failures(results))
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
