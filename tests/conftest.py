"""Shared fixtures: small files, a synthetic dataset and a fake posterior."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.core.effects import components

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

REPO = Path(__file__).resolve().parents[1]

# A withdrawal that sets the total presence: the bundled exit scenarios set troops per region,
# which data without regions (the fully observed stretch, a user's counts CSV) refuse.
TOTAL_WITHDRAWAL_TOML = """name = "withdrawal_total"
baseline = "status_quo"
[horizon]
start = "2027-01"
months = 24
[presence]
points = [{ date = "2027-01", value = 1.5 }, { date = "2027-07", value = 0.1 }]
"""


def total_withdrawal(directory: Path) -> str:
    """Write the total-presence withdrawal scenario into `directory`; return its path."""
    path = directory / "withdrawal_total.toml"
    path.write_text(TOTAL_WITHDRAWAL_TOML, encoding="utf-8")
    return str(path)


@pytest.fixture
def write(tmp_path: Path):
    """Write text to a file in tmp_path and return its path."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


def counts_csv(months: int = 24, presence: float = 3.0, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    dates = pd.period_range("2022-01", periods=months, freq="M").astype(str)
    counts = rng.poisson(4.0, months)
    rows = ["date,count,presence"] + [f"{d},{c},{presence}" for d, c in zip(dates, counts)]
    return "\n".join(rows) + "\n"


def fake_posterior(model, n_draws: int = 400, seed: int = 0, **fixed: float) -> xr.Dataset:
    """A posterior with the variables the simulator reads, drawn around plausible values."""
    rng = np.random.default_rng(seed)
    ds = model.dataset
    n_bins = ds.axis.n

    def scalar(name: str, values: np.ndarray) -> xr.DataArray:
        if name in fixed:
            values = np.full(n_draws, fixed[name])
        return xr.DataArray(values[None, :], dims=("chain", "draw"))

    data = {
        "intercept": scalar("intercept", rng.normal(1.0, 0.1, n_draws)),
        "sigma": scalar("sigma", np.abs(rng.normal(0.3, 0.05, n_draws))),
        "rho": scalar("rho", rng.uniform(0.5, 0.8, n_draws)),
        "u": xr.DataArray(rng.normal(0, 0.3, (1, n_draws, n_bins)), dims=("chain", "draw", "bin")),
    }
    if ds.presence is not None:
        data["elasticity"] = scalar("elasticity", rng.normal(0.8, 0.1, n_draws))
    for design in model.kinds:
        g = len(design.groups)
        dims = ("chain", "draw", f"{design.kind}_group")
        data[f"{design.kind}_pulse"] = xr.DataArray(rng.normal(0.5, 0.2, (1, n_draws, g)), dims=dims)
        data[f"{design.kind}_decay"] = scalar(f"{design.kind}_decay", rng.uniform(0.3, 0.7, n_draws))
        if design.kind == "decapitation":
            data["decapitation_level"] = xr.DataArray(rng.normal(0.2, 0.1, (1, n_draws, g)), dims=dims)
            data["decapitation_volatility"] = xr.DataArray(rng.normal(0.1, 0.05, (1, n_draws, g)),
                                                           dims=dims)
        for component in components(design.kind):
            # the kind's distribution that a new scenario event draws its effect from
            data[f"{design.kind}_{component}_mean"] = scalar(f"{design.kind}_{component}_mean",
                                                             rng.normal(0.3, 0.1, n_draws))
            data[f"{design.kind}_{component}_sd"] = scalar(f"{design.kind}_{component}_sd",
                                                           np.abs(rng.normal(0.2, 0.05, n_draws)))
    if getattr(model, "regional", False) and ds.regional:
        # a regional family's levels: one offset per region around the intercept
        data["region_offset"] = xr.DataArray(rng.normal(0.0, 0.3, (1, n_draws, len(ds.regions))),
                                             dims=("chain", "draw", "region"))
    return xr.Dataset(data)
