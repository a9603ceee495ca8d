"""The quick commands stay quick: `forecast validate` and `forecast data show` never import
PyMC or PyTensor (their import alone takes seconds on a small machine). The wall times are
measured by `benchmarks/cli_startup.py`, not asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

HEAVY = ("pymc", "pytensor", "arviz", "scoringrules", "matplotlib")

# runs a command in a fresh interpreter, then prints which heavy packages it imported
PROBE = """
import json, sys
from forecast.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY_NAMES))
print('HEAVY=' + json.dumps(heavy))
sys.exit(code)
"""


def run_probe(*args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", f"HEAVY_NAMES = {list(HEAVY)!r}\n" + PROBE, *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("HEAVY=")]
    assert lines, done.stdout + done.stderr
    return done, json.loads(lines[-1].removeprefix("HEAVY="))


@pytest.mark.parametrize("args", [("validate", "scenarios/status_quo.toml"),
                                  ("validate", "scenarios/status_quo.toml", "--model", "hawkes",
                                   "--data", "forecast/data/files/stretch_2023-11_2024-10.csv",
                                   "--events", "forecast/data/files/events.csv"),
                                  ("data", "show")])
def test_quick_commands_import_no_pymc(args):
    done, heavy = run_probe(*args)
    assert done.returncode == 0, done.stderr
    assert "pymc" not in heavy and "pytensor" not in heavy, heavy
    assert heavy == [], f"the quick command imported {heavy}"


def test_validate_of_the_status_quo_prints_nothing_on_stderr():
    done, _ = run_probe("validate", "scenarios/status_quo.toml")
    assert done.returncode == 0
    assert done.stderr == ""
    assert "OK (status_quo" in done.stdout


def test_registry_metadata_without_pymc():
    """Names, shocks, capabilities and parameter families are read without PyMC."""
    code = (
        "import sys\n"
        "from forecast.families import FAMILIES, families_with\n"
        "info = {n: (f.name, sorted(f.shocks), f.volatility_effects, sorted(f.parameter_families()))"
        " for n, f in FAMILIES.items()}\n"
        "assert all(n == v[0] for n, v in info.items()), info\n"
        "assert families_with('volatility') == ['latent_ar', 'regional_ar'], families_with('volatility')\n"
        "assert 'hawkes' in families_with('shock:branching_multiplier')\n"
        "assert not {'pymc', 'pytensor'} & {m.split('.')[0] for m in sys.modules}, 'pymc imported'\n"
        "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
