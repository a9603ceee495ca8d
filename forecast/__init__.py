"""Bayesian scenario forecasts of militia attacks on US forces.

The public API (see `forecast.api`): `load_dataset`, `describe`, `fit`, `load_scenarios`, `simulate`,
`write_report`, `backtest`, their result types `Fit`, `Forecast`, `Backtest` (each with
`summary()` and `plot()`), the configuration types `DataSource`, `FitSettings`,
`RunConfig`, and the registry of model families `FAMILIES`. Names are loaded on first
use, so `import forecast` (and the command line's quick commands) stay light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "FAMILIES", "Backtest", "DataSource", "Fit", "FitSettings", "Forecast", "RunConfig", "backtest",
    "describe", "fit", "load_dataset", "load_scenarios", "simulate", "write_report",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from forecast import api

        return getattr(api, name)
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
