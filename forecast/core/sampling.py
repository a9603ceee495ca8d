"""NUTS sampling shared by the model families: posterior, log-likelihood, predictive draws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import arviz as az
import pymc as pm
import pytensor
import xarray as xr

from forecast.config import SAMPLERS

# PyTensor flags for compiling the model's logp and gradient for nutpie (numba backend).
# fastmath off: with LLVM's fast-math flags the rounding of the compiled logp/gradient
# depended on how the process got it, compiled afresh on an empty PyTensor numba cache or
# assembled from that on-disk cache (probably: fresh, the callees are inlined and may be
# reassociated; from the cache they are linked object code). The same fit and seed gave
# posteriors ~1e-13 apart (origin 19 of the backtest equality test), so a local worker
# compiling on a fresh machine and a Dask worker reading the cache scored differently in
# the last bits. Without fast-math (IEEE semantics) cold and warm caches give the same
# posterior. Part of the fit cache key (fitting.fit_key).
COMPILE_FLAGS = {"numba__fastmath": False}


def sample_posterior(model: pm.Model, *, draws: int = 1000, tune: int = 1000, chains: int = 4,
                     seed: int = 1, sampler: str = "nutpie", progress: bool = True,
                     target_accept: float = 0.9, predictive: bool = True,
                     low_rank: bool = False, mass_matrix: str = "draws",
                     log_likelihood: Callable[[xr.Dataset], xr.DataArray] | None = None) -> az.InferenceData:
    """Sample `model` and add the pointwise log-likelihood, prior and posterior predictive.

    `log_likelihood` (posterior -> pointwise log-likelihood of "obs") replaces PyMC's
    compiled one where a model computes it from its deterministics in numpy: PyMC's
    compiles a C function, about 19 s on a machine with an empty compile cache.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}")
    with model:
        kwargs: dict[str, Any] = dict(
            draws=draws, tune=tune, chains=chains, cores=min(chains, 2), random_seed=seed,
            progressbar=progress, nuts_sampler=sampler, target_accept=target_accept,
        )
        if sampler == "nutpie":
            # low-rank mass matrix: for posteriors whose correlations a diagonal cannot capture
            kwargs["nuts_sampler_kwargs"] = {"low_rank_modified_mass_matrix": low_rank,
                                         "use_grad_based_mass_matrix": mass_matrix == "gradients"}
        else:
            kwargs["idata_kwargs"] = {"log_likelihood": False}
        with pytensor.config.change_flags(**COMPILE_FLAGS):
            idata = pm.sample(**kwargs)
        # the tuning draws of the parameters are half of a saved fit and nothing reads them
        # (their sample stats, small, stay)
        if "warmup_posterior" in idata.groups():
            del idata["warmup_posterior"]
        # nutpie ignores idata_kwargs: the pointwise log-likelihood (for LOO) is added here
        if log_likelihood is not None:
            idata.add_groups(log_likelihood=xr.Dataset({"obs": log_likelihood(idata.posterior)}))
        else:
            pm.compute_log_likelihood(idata, extend_inferencedata=True, progressbar=False)
        if predictive:
            idata.extend(pm.sample_prior_predictive(draws=min(500, draws * chains), random_seed=seed + 1))
            idata.extend(pm.sample_posterior_predictive(idata, var_names=["obs"], random_seed=seed + 2,
                                                        progressbar=False))
    return idata
