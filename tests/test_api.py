"""The public API as a notebook uses it: only names from `import forecast as fc`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import forecast as fc
from tests.conftest import REPO, counts_csv


def test_public_names_are_listed_and_load():
    for name in fc.__all__:
        assert getattr(fc, name) is not None
    assert set(fc.FAMILIES) >= {"latent_ar", "hawkes", "hawkes_powerlaw"}


def test_fit_simulate_summarise_plot(write, tmp_path):
    lines = counts_csv(30, presence=3.0).splitlines()
    oil = [60.0 + 7.0 * (i % 5) for i in range(len(lines) - 1)]      # a covariate in dollars
    text = "\n".join([lines[0] + ",oil"] + [f"{r},{v}" for r, v in zip(lines[1:], oil)]) + "\n"
    data = fc.load_dataset(str(write("c.csv", text)))
    fitted = fc.fit(data, settings=fc.FitSettings(draws=40, tune=40, chains=2), cache_root=None)
    summary = fitted.summary()
    assert {"parameter", "mean", "r_hat", "ess_bulk"} <= set(summary.columns)
    assert "elasticity" in set(summary["parameter"])
    # the covariate's scaling is recorded, and its coefficient reported per sd and per dollar
    scaling = {"mean": pytest.approx(np.mean(oil)), "sd": pytest.approx(np.std(oil))}
    assert fitted.manifest["covariate_scaling"] == {"oil": scaling}
    assert json.loads(fitted.idata.posterior.attrs["covariate_scaling"]) == {"oil": scaling}
    rows = summary.set_index("parameter")["mean"]
    beta = float(fitted.idata.posterior["beta"].mean())
    assert rows["beta[oil]"] == pytest.approx(beta, abs=1e-3)
    assert rows["beta_per_unit[oil]"] == pytest.approx(beta / np.std(oil), abs=1e-3)
    assert isinstance(fitted.plot(), Figure)
    scenarios = fc.load_scenarios([write("a.toml", 'name = "stay"\n[horizon]\nmonths = 6\n'),
                                   write("b.toml", 'name = "leave"\nbaseline = "stay"\n[horizon]\n'
                                         'months = 6\n[presence]\npoints = [{ date = "2024-07-01", '
                                         'value = 0.5 }]\n')])
    outlook = fc.simulate(fitted, scenarios, seed=3)
    totals = outlook.summary()
    assert list(totals["scenario"]) == ["stay", "leave"]
    contrasts = outlook.contrasts()
    assert isinstance(contrasts, pd.DataFrame) and list(contrasts["scenario"]) == ["leave"]
    # fewer troops, fewer attacks: the fitted elasticity's prior is positive
    assert float(contrasts["diff_median"].iloc[0]) <= 0
    assert isinstance(outlook.plot("leave"), Figure)
    assert isinstance(outlook.plot_contrasts(), Figure)
    folder = fc.write_report(outlook, tmp_path / "report")
    assert (folder / "report.html").exists() and (folder / "contrasts.csv").exists()
    assert "beta_per_unit[oil]" in (folder / "report.html").read_text()
    assert (folder / "checks.csv").exists()


def test_notebooks_use_only_the_public_api():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "from forecast" not in text, f"{path.name} imports from inside the package"
        assert "import forecast as fc" in text
