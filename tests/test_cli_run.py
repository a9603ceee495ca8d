"""End to end through the command line with tiny draws: fit, gate, cache, run folders."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from forecast.cli import main
from tests.conftest import counts_csv

TINY = ["--draws", "40", "--tune", "40", "--chains", "2", "--seed", "7"]


def test_fit_gate_cache_and_run(write, tmp_path, capsys):
    data = write("counts.csv", counts_csv(months=30))
    events = write("events.csv", "date,kind,name\n2023-01-10,decapitation,leader\n")
    root = tmp_path / "runs"
    common = ["--data", str(data), "--events", str(events), "--runs-root", str(root), *TINY]

    # tiny draws cannot pass the gate: exit 3, the run is written and marked refused
    refused = tmp_path / "refused"
    assert main(["fit", *common, "--out", str(refused)]) == 3
    manifest = json.loads((refused / "manifest.json").read_text())
    assert manifest["verdict"] == "refused" and not manifest["diagnostics"]["passed"]
    assert "bulk ESS" in capsys.readouterr().err

    # the same fit is reused from the cache; --allow-unconverged lets it through, recorded
    allowed = tmp_path / "allowed"
    assert main(["fit", *common, "--out", str(allowed), "--allow-unconverged"]) == 0
    manifest = json.loads((allowed / "manifest.json").read_text())
    assert manifest["verdict"] == "allowed_unconverged" and manifest["reused_cached_fit"]
    assert "reusing cached fit" in capsys.readouterr().out

    # an existing folder is never written over
    assert main(["fit", *common, "--out", str(allowed), "--allow-unconverged"]) == 2
    assert "already exists" in capsys.readouterr().err

    scenario = write("s.toml", 'name = "base"\n[horizon]\nmonths = 6\n')
    cut = write("c.toml", 'name = "cut"\nbaseline = "base"\n[horizon]\nmonths = 6\n'
                '[presence]\npoints = [{date = "2024-07", value = 0.0}]\n')
    out = tmp_path / "run"
    assert main(["run", str(scenario), str(cut), "--fit", str(allowed), "--allow-unconverged",
                 "--data", str(data), "--events", str(events), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"posterior.nc", "scenarios.nc", "summary.csv", "contrasts.csv", "exceedance.csv",
            "first_attack.csv", "totals.csv", "checks.csv", "manifest.json"} <= names
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["scenarios"]] == ["base", "cut"]
    assert all(len(s["sha256"]) == 64 for s in manifest["scenarios"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    check_stored_outputs(allowed, out)

    # a bad scenario is refused before anything is written
    bad = write("bad.toml", 'name = "x"\n[horizon]\nmonthz = 3\n')
    out2 = tmp_path / "run2"
    assert main(["run", str(bad), "--fit", str(allowed), "--allow-unconverged", "--data", str(data),
                 "--events", str(events), "--out", str(out2)]) == 2
    assert not out2.exists()


def test_rerun_reproduces_a_run_byte_for_byte(write, tmp_path, capsys):
    data = write("counts.csv", counts_csv(months=30))
    scenario = write("s.toml", 'name = "base"\n[horizon]\nmonths = 4\n'
                     '[presence]\npoints = [{date = {uniform = ["2024-08-01", "2024-09-30"]}, '
                     'value = 1.0}]\n')
    first = tmp_path / "first"
    assert main(["run", str(scenario), "--data", str(data), *TINY, "--allow-unconverged", "--no-cache",
                 "--no-report", "--out", str(first), "--runs-root", str(tmp_path / "runs")]) == 0
    second = tmp_path / "second"
    assert main(["rerun", str(first), "--out", str(second)]) == 0   # samples again, same seed
    out = capsys.readouterr().out
    assert "summary.csv: identical" in out and "posterior.nc draws: identical" in out
    assert "DIFFERENT" not in out
    assert (first / "summary.csv").read_bytes() == (second / "summary.csv").read_bytes()


def check_stored_outputs(fit_run, scenario_run) -> None:
    """posterior.nc holds each variable once, under the report's names, with datetime bins;
    scenarios.nc has datetime months; first_attack.csv one type per column."""
    for folder in (fit_run, scenario_run):
        idata = az.from_netcdf(folder / "posterior.nc")
        for group in ("posterior", "prior"):
            names = set(idata[group].data_vars)
            assert not {n for n in names if "__" in n}, names          # no transformed or per-group twins
            assert "z" not in names and {"u", "rho", "sigma", "rate", "decapitation_level"} <= names
            assert np.issubdtype(idata[group]["bin"].dtype, np.datetime64)
        summary = az.summary(idata, kind="stats")
        assert summary.index.is_unique
        assert not [i for i in summary.index if i.startswith("decapitation_level__")]
    with xr.open_dataset(scenario_run / "scenarios.nc", engine="h5netcdf") as draws:
        assert np.issubdtype(draws["month"].dtype, np.datetime64)
        assert str(draws["month_label"].values[0]) == "2024-07"
    first = pd.read_csv(scenario_run / "first_attack.csv")
    # data without regions: the tables of the total, without a region column
    assert list(first.columns) == ["scenario", "months_until_first_attack", "censored", "probability"]
    assert first["months_until_first_attack"].dtype.kind == "i" and first["censored"].dtype == bool
    for _, group in first.groupby("scenario"):
        assert abs(group["probability"].sum() - 1) < 1e-3 and group["censored"].sum() == 1
    summary_csv = pd.read_csv(scenario_run / "summary.csv")
    assert summary_csv["month"].iloc[0] == "2024-07"
