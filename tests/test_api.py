"""The public API as a notebook uses it: only names from `import forecast as fc`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

import forecast as fc
from tests.conftest import REPO, counts_csv


def test_public_names_are_listed_and_load():
    for name in fc.__all__:
        assert getattr(fc, name) is not None
    assert set(fc.FAMILIES) >= {"latent_ar", "hawkes", "hawkes_powerlaw"}


def test_fit_simulate_summarise_plot(write, tmp_path):
    data = fc.load_dataset(str(write("c.csv", counts_csv(30, presence=3.0))))
    fitted = fc.fit(data, settings=fc.FitSettings(draws=40, tune=40, chains=2), cache_root=None)
    summary = fitted.summary()
    assert {"parameter", "mean", "r_hat", "ess_bulk"} <= set(summary.columns)
    assert "elasticity" in set(summary["parameter"])
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
    assert (folder / "checks.csv").exists()


def test_notebooks_use_only_the_public_api():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "from forecast" not in text, f"{path.name} imports from inside the package"
        assert "import forecast as fc" in text
