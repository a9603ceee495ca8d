"""A stand-in for NUTS: prior draws shaped as a posterior, in well under a second.

Everything after sampling (diagnostics, the cache, run folders, scenarios, reports, LOO)
runs for real on these draws; only the sampler is replaced, so fuzz cases that get past
the option checks cost no fit.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from forecast.families.base import Family

# prior draws per (family, dataset) key: PyMC compiles the prior sampler once per graph
_PRIORS: dict[tuple[str, str], xr.Dataset] = {}
BASE_DRAWS = 60


def fake_fit(self: Family, *, draws: int = 1000, chains: int = 4, seed: int = 1,
             **_: Any) -> az.InferenceData:
    import pymc as pm

    model = self.model or self.build()
    key = (self.name, self.dataset.content_hash() + repr(self.priors.to_dict()))
    if key not in _PRIORS:
        with model:
            _PRIORS[key] = pm.sample_prior_predictive(draws=BASE_DRAWS, random_seed=1).prior
    prior = _PRIORS[key]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, prior.sizes["draw"], size=chains * draws)
    data = {}
    for name, var in prior.data_vars.items():
        values = var.values[0][picks]           # (chains * draws, ...)
        values = values.reshape((chains, draws) + values.shape[1:])
        dims = ("chain", "draw") + var.dims[2:]
        data[name] = (dims, values)
    coords = {k: v for k, v in prior.coords.items() if k not in ("chain", "draw")}
    posterior = xr.Dataset(data, coords={**coords, "chain": np.arange(chains), "draw": np.arange(draws)})
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((chains, draws), bool)),
                        "energy": (("chain", "draw"), rng.normal(size=(chains, draws)))},
                       coords={"chain": np.arange(chains), "draw": np.arange(draws)})
    idata = az.InferenceData(posterior=posterior, sample_stats=stats, prior=prior)
    idata.add_groups(log_likelihood=xr.Dataset({"obs": self.pointwise_log_likelihood(posterior)}))
    return idata


@contextmanager
def fake_sampling():
    """Within the block every family samples with `fake_fit`."""
    original = Family.fit
    Family.fit = fake_fit
    try:
        yield
    finally:
        Family.fit = original
