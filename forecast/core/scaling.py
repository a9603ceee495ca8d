"""How covariates enter both model families: standardised, and log presence centred."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.dataset import Dataset

if TYPE_CHECKING:   # ArviZ loads only when a summary is asked for (quick commands never)
    import arviz as az


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

    def record(self, names: Sequence[str]) -> dict[str, dict[str, float]]:
        """Per covariate, the mean and standard deviation it was standardised with: the fitted
        coefficient `beta` is per standard deviation, `beta / sd` per unit of the covariate."""
        return {str(n): {"mean": float(m), "sd": float(s)}
                for n, m, s in zip(names, self.cov_mean, self.cov_sd, strict=True)}


def coefficient_summary(idata: az.InferenceData, names: Sequence[str], cov_sd: np.ndarray) -> pd.DataFrame:
    """ArviZ summary rows of the covariate coefficients, each twice: `beta[name]` per standard
    deviation of the covariate (as fitted) and `beta_per_unit[name]` per unit of it, in the
    data's own units. Empty when the model has no covariates."""
    if "beta" not in idata.posterior or not len(names):
        return pd.DataFrame()
    beta = idata.posterior["beta"]
    sd = xr.DataArray(np.asarray(cov_sd, dtype=float), dims="covariate",
                      coords={"covariate": beta["covariate"].values})
    both = xr.Dataset({"beta": beta, "beta_per_unit": beta / sd})
    import arviz as az

    return az.summary(both, kind="all")
