"""Shared helpers of the benchmark workers (names, posterior summaries, JSON output)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = (REPO / ".." / "shared" / "bench").resolve()

# engine parameter -> the peers' name for the same parameter
ENGINE_TO_PEER = {
    "intercept": "intercept",
    "elasticity": "elasticity",
    "decapitation_level": "decap_level",
    "decapitation_pulse": "decap_pulse",
    "decapitation_decay": "decap_decay",
    "rho": "rho",
    "sigma": "sigma",
}
PEER_SCALARS = list(ENGINE_TO_PEER.values())


def write_json(path: str | Path, payload: dict) -> None:
    Path(path).write_text(json.dumps(payload, indent=2, default=float))


def scalar_draws(posterior, name: str) -> np.ndarray:
    """(chain, draw) array of a scalar or a one-group vector parameter."""
    arr = np.asarray(posterior[name].values, dtype=float)
    if arr.ndim > 2:
        if int(np.prod(arr.shape[2:])) != 1:
            raise ValueError(f"{name} has more than one element: {arr.shape}")
        arr = arr.reshape(arr.shape[:2])
    return arr


def diag_of(draws: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean, sd, bulk and tail ESS and r-hat of each (chain, draw) array."""
    import arviz as az

    out = {}
    for name, arr in draws.items():
        out[name] = {
            "mean": float(arr.mean()), "sd": float(arr.std(ddof=1)),
            "ess_bulk": float(az.ess(arr, method="bulk")),
            "ess_tail": float(az.ess(arr, method="tail")),
            "rhat": float(az.rhat(arr)),
        }
    return out


def summary_line(params: dict[str, dict[str, float]], names: list[str]) -> dict[str, float]:
    return {
        "min_ess_bulk": min(params[n]["ess_bulk"] for n in names),
        "min_ess_tail": min(params[n]["ess_tail"] for n in names),
        "max_rhat": max(params[n]["rhat"] for n in names),
    }


def add_bench_to_path() -> None:
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
