"""Exact leave-one-out for the observations whose PSIS-LOO is unreliable (Pareto k > 0.7).

The latent AR model gives each bin its own latent value, so an observation pulls its own
rate towards itself and PSIS importance weights degenerate (high Pareto k): its elpd_loo
is then too optimistic. For such observations ArviZ's `reloo` refits the model without the
observation and scores it under that posterior. Here an observation is left out by keeping
its row but making it say nothing: "at least 0" (P = 1 whatever the rate), so the refit has
the same parameters as the fit, and the row is scored by its own interval likelihood under
the refitted rates.

Keeping the row matters when it is the only fitted row of its counting definition: without
it nothing in the data informs that definition's reporting ratio, so the refit draws the
ratio from its prior alone, which is exactly the ratio's distribution given the other rows.
(Turning the row into a check row dropped the definition from the refit, whose posterior
then had no ratio to score the row with: a KeyError. Leaving such rows out of the comparison
instead would score the models on different observations.)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from forecast.core.effects import segments_for
from forecast.core.likelihood import interval_logp_numpy
from forecast.data.dataset import Dataset


class LeaveOneOutRefit(az.SamplingWrapper):
    """az.reloo's hooks for a latent AR fit: drop one fitted row, refit, score the row."""

    def __init__(self, dataset: Dataset, fit_one: Any, idata: az.InferenceData) -> None:
        """`fit_one(dataset) -> InferenceData` fits with the original priors and settings."""
        super().__init__(model=None, idata_orig=idata)
        self.dataset = dataset
        self.fit_one = fit_one
        self.ids = [str(v) for v in idata.log_likelihood["observation"].values]

    def sel_observations(self, idx):
        row_id = self.ids[int(np.ravel(idx)[0])]
        obs = self.dataset.observations.copy()
        row = obs["id"] == row_id
        obs.loc[row, ["bound", "count", "lo", "hi"]] = ["at_least", 0, 0, np.inf]
        return replace(self.dataset, observations=obs), row_id

    def sample(self, modified_observed_data):
        return self.fit_one(modified_observed_data)

    def get_inference_data(self, fitted):
        return fitted

    def log_likelihood__i(self, excluded_obs, idata__i):
        rows = self.dataset.observations
        row = rows[rows["id"] == excluded_obs]
        # the same events, hence the same segments, as the full fit
        segments = segments_for(self.dataset.events, self.dataset.axis)
        weights = segments.weights(row["start"], row["end"])[0]
        post = idata__i.posterior
        rate = (post["segment_rate"] if "segment_rate" in post else post["rate"]).values   # (chain, draw, S)
        mu = rate @ weights
        definition = row["definition"].iloc[0]
        if definition != self.dataset.reference:
            mu = mu * np.exp(idata__i.posterior["log_ratio"].sel(definition=definition).values)
        logp = interval_logp_numpy(mu, row["lo"].iloc[0], row["hi"].iloc[0])
        return xr.DataArray(logp, dims=("chain", "draw"))
