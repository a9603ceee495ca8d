"""Simulated counts for two (or more) regions in the long layout, with known truth.

For the regional model's recovery test (forecast/data/REGIONS.md): the monthly rate in
region r is

    log lambda_{r,t} = a + a_r + g log(presence_{r,t} / ref_r) + u_t,
    u_t = phi u_{t-1} + sigma e_t   (one latent AR(1) series shared by the regions),

counts are Poisson(lambda_{r,t}), and a region with no troops (presence 0) has rate 0.
ref_r is the geometric mean of the region's positive presence (`presence_reference`), so
a_r is the region's level at its own typical presence and g is identified by changes
within regions. Presence moves in opposite directions in the two regions, so that g is
not confounded with the shared u_t (a common trend would move both regions alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RegionTruth:
    """The parameters the data are drawn from."""

    level: float = 1.0                      # a: log monthly attacks at reference presence
    offsets: dict[str, float] = field(default_factory=lambda: {"north": 0.5, "south": -0.5})
    elasticity: float = 0.8                 # g, shared by the regions
    ar_coef: float = 0.5                    # phi
    ar_sd: float = 0.25                     # sigma

    @property
    def regions(self) -> list[str]:
        return list(self.offsets)


@dataclass(frozen=True)
class SimulatedRegions:
    truth: RegionTruth
    frame: pd.DataFrame                     # date, region, count, presence (the long layout)
    presence: np.ndarray                    # (months x regions), thousands
    reference: np.ndarray                   # (regions,) ref_r
    latent: np.ndarray                      # (months,) u_t
    log_rate: np.ndarray                    # (months x regions); -inf where presence is 0

    def write_csv(self, path: str | Path) -> Path:
        """The long layout `date,region,count,presence`, as `forecast.data.loaders` reads it."""
        path = Path(path)
        self.frame.to_csv(path, index=False, lineterminator="\n")
        return path


def presence_reference(presence: np.ndarray) -> np.ndarray:
    """ref_r: the geometric mean of each region's positive presence (1 for a region never present)."""
    presence = np.asarray(presence, float)
    out = np.ones(presence.shape[1])
    for j in range(presence.shape[1]):
        positive = presence[:, j][presence[:, j] > 0]
        if positive.size:
            out[j] = float(np.exp(np.mean(np.log(positive))))
    return out


def opposite_presence(months: int, n_regions: int = 2, low: float = 0.5, high: float = 3.0,
                      zero_months: int = 0) -> np.ndarray:
    """Presence falling from `high` to `low` in the first region and rising in the second
    (further regions alternate); the last `zero_months` of the first region are 0 (an exit)."""
    down = np.linspace(high, low, months)
    out = np.column_stack([down if j % 2 == 0 else down[::-1] for j in range(n_regions)])
    if zero_months:
        out[months - zero_months:, 0] = 0.0
    return out


def simulate_regions(months: int = 72, truth: RegionTruth | None = None, seed: int = 0,
                     start: str = "2020-01", presence: np.ndarray | None = None) -> SimulatedRegions:
    """Draw monthly counts per region from `truth` (see the module docstring)."""
    truth = truth or RegionTruth()
    regions = truth.regions
    presence = opposite_presence(months, len(regions)) if presence is None else np.asarray(presence, float)
    if presence.shape != (months, len(regions)):
        raise ValueError(f"presence has shape {presence.shape}; expected {(months, len(regions))}")
    # as the CSV will hold it, so that the truth is computed from what the model reads
    presence = np.round(presence, 6)
    rng = np.random.default_rng(seed)
    latent = np.zeros(months)
    # start the AR(1) from its stationary distribution
    latent[0] = rng.normal(0.0, truth.ar_sd / np.sqrt(1.0 - truth.ar_coef ** 2))
    for t in range(1, months):
        latent[t] = truth.ar_coef * latent[t - 1] + rng.normal(0.0, truth.ar_sd)
    reference = presence_reference(presence)
    offsets = np.array([truth.offsets[r] for r in regions])
    present = presence > 0
    with np.errstate(divide="ignore"):
        log_rate = (truth.level + offsets[None, :] + truth.elasticity * np.log(presence / reference)
                    + latent[:, None])
    log_rate = np.where(present, log_rate, -np.inf)
    counts = np.where(present, rng.poisson(np.exp(np.where(present, log_rate, 0.0))), 0)
    dates = pd.period_range(start, periods=months, freq="M").astype(str)
    frame = pd.DataFrame({
        "date": np.repeat(dates, len(regions)),
        "region": np.tile(regions, months),
        "count": counts.reshape(-1),
        "presence": presence.reshape(-1),
    })
    return SimulatedRegions(truth, frame, presence, reference, latent, log_rate)
