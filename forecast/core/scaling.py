"""How covariates enter both model families: standardised, and log presence centred."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.data.dataset import Dataset


@dataclass(frozen=True)
class Scaling:
    cov_mean: np.ndarray
    cov_sd: np.ndarray
    presence_ref: float

    @classmethod
    def of(cls, dataset: Dataset) -> Scaling:
        cov = dataset.covariates
        mean = cov.mean().to_numpy() if not cov.empty else np.zeros(0)
        sd = cov.std(ddof=0).replace(0, 1).to_numpy() if not cov.empty else np.zeros(0)
        # log presence is centred on its geometric mean so that the intercept and the
        # elasticity are not strongly correlated in the posterior
        ref = float(np.exp(np.mean(np.log(dataset.presence)))) if dataset.presence is not None else 1.0
        return cls(mean, sd, ref)
