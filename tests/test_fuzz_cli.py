"""The command line fuzzed in-process: no traceback, no hang, no damage, the right exit codes.

The fast test runs the corpus (tests/fuzz_corpus.json: one reproducer per bug found), the
paths and special files, and a spread of the option and tamper cases; the slow one runs
every case. `python scripts/fuzz_cli.py` runs them outside pytest and prints the table.
"""

from __future__ import annotations

import pytest

from tests.fuzz import cases as fuzz
from tests.fuzz.driver import run_cases
from tests.fuzz.harness import failures, table


def _spread(cases: list, every: int) -> list:
    """Every `every`-th case, and the first of each command (so each command is covered)."""
    seen: set[str] = set()
    out = []
    for i, case in enumerate(cases):
        if i % every == 0 or case.command not in seen:
            out.append(case)
            seen.add(case.command)
    return out


def _check(results) -> None:
    print("\n" + table(results))
    assert not any(r.failed for r in results), table(results) + "\n" + failures(results)


def test_fuzz_corpus_paths_and_a_spread_of_options_and_tampers(tmp_path):
    chosen = (fuzz.corpus_cases() + fuzz.path_cases() + _spread(fuzz.option_cases(), 8)
              + _spread(fuzz.tamper_cases(), 9))
    results = run_cases(chosen, scratch=tmp_path)
    assert {r.case.command for r in results} >= {"run", "fit", "validate", "report", "rerun", "compare",
                                                  "backtest", "data validate", "data show"}
    _check(results)


@pytest.mark.slow
def test_fuzz_every_case(tmp_path):
    _check(run_cases(fuzz.all_cases(), scratch=tmp_path))


def test_the_corpus_names_its_bugs():
    """Each corpus entry says which bug it reproduces and what the tool must answer."""
    for case in fuzz.corpus_cases():
        assert case.note and case.expect, case
