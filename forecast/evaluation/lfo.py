"""Leave-future-out (LFO) predictive densities for model weights, by exact refits.

After Buerkner, Gabry and Vehtari (2020), "Approximate leave-future-out cross-validation for
Bayesian time series models": a forecast model is judged by how well it predicts what comes
next from what was known, not by how well it accounts for a point given both its
neighbours (leave-one-out). Here every origin is refitted (exact LFO; the paper's PSIS
approximation, which reweights one fit and refits only when Pareto k is high, is not used):

- origins: the last `n_origins` bins whose target `steps` bins ahead has data, one bin apart;
- each model is fitted on the data published before the origin (the backtest's vintage
  truncation, `truncate.py`) and forecasts the next `steps` bins with the backtest's
  predictive (observed presence path, no future events);
- the pointwise density of a target is exp(-log score): P(y) for an exact count, P(lo <= Y
  <= hi) for an interval or bound. Only targets exactly `steps` bins ahead enter (step 1 is
  one-step-ahead); with origins one bin apart each target is then predicted once. For
  steps > 1 this is the marginal k-step-ahead density of each target, not the joint density
  of the block the paper also discusses.

Any contender the backtest knows may be weighed (families and baselines); `forecast run`
weighs families, whose scenario draws it can mix.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from forecast.config import FitSettings
from forecast.data.dataset import Dataset
from forecast.ensemble import pointwise_weights
from forecast.errors import InputError
from forecast.evaluation.backtest import check_frame, choose_origins, run_backtest


def pointwise_log_densities(frame: pd.DataFrame, steps: int = 1) -> pd.DataFrame:
    """(origin, target) x model table of log p(y) for the targets `steps` bins ahead.

    Raises InputError when no target was scored at that step (e.g. every fit failed).
    """
    if frame.empty:
        raise InputError("command line", "the leave-future-out backtest scored no target")
    scored = check_frame(frame)
    ahead = scored[scored["step"] == steps]
    if ahead.empty:
        raise InputError("command line", f"no target {steps} bin(s) ahead of any origin was scored by "
                         "every model; use more origins or fewer steps")
    table = (-ahead.set_index(["origin", "target", "model"])["log_score"]).unstack("model")
    models = list(dict.fromkeys(frame["model"]))
    return table[models]


def lfo_log_densities(dataset: Dataset, models: tuple[str, ...], n_origins: int, steps: int,
                      fit_settings: FitSettings | None, seed: int, executor: Any = "local",
                      max_workers: int = 2,
                      priors_file: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    """The pointwise LFO log densities, the backtest frame they come from, and the origins.

    The refits run on `executor` ('serial', 'local' processes or a Dask scheduler address):
    results are identical on any of them (each origin's seed is derived from `seed`).
    """
    if steps < 1 or n_origins < 1:
        raise InputError("command line", "--lfo-origins and --lfo-steps must be at least 1")
    origins = choose_origins(dataset, n_origins, steps)
    frame = run_backtest(dataset, origins, steps, models, fit_settings, seed, executor=executor,
                         max_workers=max_workers, priors_file=priors_file)
    return pointwise_log_densities(frame, steps), frame, origins


def backtest_weights(frame: pd.DataFrame, steps: int = 1, method: str = "stacking") -> pd.DataFrame | None:
    """The weights of a backtest's contenders from its own targets `steps` bins ahead.

    In-sample over the backtest's origins: which mix of the contenders would have predicted
    them best, not the score of that mix. None with fewer than two contenders or no target.
    """
    if frame.empty or frame["model"].nunique() < 2:
        return None
    try:
        lpd = pointwise_log_densities(frame, steps)
    except InputError:
        return None
    return pointwise_weights(lpd, method)
