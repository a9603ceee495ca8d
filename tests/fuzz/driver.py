"""Build the sandbox once, run cases, return results (used by the test and the script)."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

from tests.fuzz.cases import build_template, prepare
from tests.fuzz.fake_sampler import fake_sampling
from tests.fuzz.harness import Case, Result, failures, run_case


def run_cases(cases: Iterable[Case], scratch: Path | None = None, progress: bool = False) -> list[Result]:
    """Every case against a fresh copy of one template, with the sampler faked."""
    cases = list(cases)
    with contextlib.ExitStack() as stack:
        if scratch is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fuzz-")))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        warnings.filterwarnings("default", module="forecast")    # the tool's own, e.g. quarantine
        stack.enter_context(fake_sampling())
        template = build_template(scratch / "template")
        results = []
        for i, case in enumerate(cases):
            results.append(run_case(case, template, prepare, scratch))
            if progress and results[-1].failed:
                print(f"[{i + 1}/{len(cases)}] FAILED", failures(results[-1:]), flush=True)
        return results
