"""The command line is quiet by default and prints its results."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_validate_prints_no_third_party_warnings():
    proc = subprocess.run([sys.executable, "-m", "forecast.cli", "validate", "scenarios/status_quo.toml"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "OK" in proc.stdout


def test_run_prints_its_results_table(tmp_path, capsys):
    from forecast.cli.terminal import print_run_results

    (tmp_path / "totals.csv").write_text("scenario,months,mean,q02_5,q10,q25,median,q75,q90,q97_5\n"
                                         "stay,12,50,10,20,30,40,60,80,99\n")
    (tmp_path / "contrasts.csv").write_text("scenario,baseline,diff_median,diff_q10,diff_q90,"
                                            "p_fewer_than_baseline\nleave,stay,-31,-120,-5,0.91\n")
    print_run_results(tmp_path)
    out = capsys.readouterr().out
    assert "stay" in out and "20 to 80" in out
    assert "leave" in out and "-31" in out and "-120 to -5" in out and "0.91" in out


def test_quiet_mode_survives_pymc_setting_its_own_logger():
    """PyMC sets its logger to INFO on import; the quiet mode must hold after that import."""
    code = ("import logging; from forecast.quiet import quiet_third_parties; quiet_third_parties(); "
            "import pymc; import sys; "
            "sys.exit(0 if not logging.getLogger('pymc.sampling.forward').isEnabledFor(logging.INFO) else 1)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
