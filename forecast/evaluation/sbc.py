"""Simulation-based calibration (SBC) of the default model.

Each replication draws one parameter set and one dataset from the prior of the default
model on a small synthetic monthly dataset (`SBC_MONTHS` months of exact counts, a presence
path that halves after month 18, one decapitation in month 12), fits the model to that
dataset and records the rank of the true value among the posterior draws for the key
parameters. The draws are autocorrelated, which alone makes the ranks of a calibrated fit
non-uniform (Talts et al. 2018, section 5.1), so each chain is first thinned by
ceil(draws / min bulk ESS) over the key parameters: the L draws left are roughly independent,
and with a calibrated fit the ranks are uniform on 0..L (L varies between replications; the
histograms show rank / (L + 1)).
Replications whose simulated data cannot identify the model (all zeros) or whose counts
are absurd (above `MAX_COUNT` in a month) are redrawn with the next seed.

CI runs 2-3 replications (tests/test_backtest.py); a meaningful check is e.g.

    forecast backtest --sbc 100 --draws 200 --tune 500 --chains 2

which writes sbc.csv and an SBC section with rank histograms in backtest.html.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.config import FitSettings
from forecast.data.dataset import Dataset, observations_from_bins
from forecast.errors import ForecastError
from forecast.families import DEFAULT_FAMILY, make_family
from forecast.fitting import fit
from forecast.quiet import is_quiet, worker_initializer
from forecast.timeaxis import TimeAxis

SBC_MONTHS = 36
PARAMETERS = ("intercept", "elasticity", "rho", "sigma", "decapitation_level")
MAX_COUNT = 5000
MAX_TRIES = 20


def synthetic_dataset(counts: np.ndarray | None = None) -> Dataset:
    axis = TimeAxis("month", pd.Timestamp("2020-01-01"), SBC_MONTHS)
    if counts is None:
        counts = np.ones(SBC_MONTHS)
    obs = observations_from_bins(axis, np.asarray(counts, dtype=float), "counts", "sbc")
    presence = np.where(np.arange(SBC_MONTHS) < 18, 5.0, 2.5)
    events = pd.DataFrame({"date": [pd.Timestamp("2020-12-15")], "end_date": [pd.NaT],
                           "kind": ["decapitation"], "name": ["sbc_decapitation"], "summary": [""],
                           "source": [""]})
    return Dataset(name="sbc", axis=axis, observations=obs, events=events, reference="counts",
                   presence=presence)


def _scalar(values: np.ndarray) -> np.ndarray:
    """Flatten per-draw values of a scalar or one-group parameter to (draws,)."""
    values = np.asarray(values, dtype=float)
    return values.reshape(values.shape[0] * values.shape[1], -1)[:, 0] if values.ndim > 2 \
        else values.reshape(-1)


def prior_draw(seed: int) -> tuple[dict[str, float], np.ndarray]:
    """True parameters and simulated counts from the prior predictive of the default model."""
    import pymc as pm

    model = make_family(DEFAULT_FAMILY, synthetic_dataset())
    with model.build():
        prior = pm.sample_prior_predictive(draws=1, random_seed=seed, var_names=[*PARAMETERS, "obs"])
    truth = {p: float(_scalar(prior.prior[p].values)[0]) for p in PARAMETERS}
    counts = np.asarray(prior.prior_predictive["obs"].values).reshape(-1)
    return truth, counts


def thin_by_ess(draws: dict[str, np.ndarray]) -> tuple[int, dict[str, np.ndarray]]:
    """Thin (chain, draw) arrays to roughly independent draws.

    Every parameter is thinned by the same step, ceil(draws per chain * chains / min bulk
    ESS), so that the number of draws kept is about the smallest bulk ESS. Returns the step
    and the thinned draws, flattened."""
    import arviz as az

    total = next(iter(draws.values())).size
    ess = min(float(az.ess(np.asarray(v, dtype=float), method="bulk")) for v in draws.values())
    step = max(1, math.ceil(total / ess)) if np.isfinite(ess) and ess > 0 else total
    return step, {k: np.asarray(v)[:, ::step].reshape(-1) for k, v in draws.items()}


def sbc_ranks(draws: dict[str, np.ndarray], truth: dict[str, float]) -> dict[str, int | float]:
    """Ranks of the true values among ESS-thinned draws, with the number kept and the step."""
    step, thinned = thin_by_ess(draws)
    rec: dict[str, int | float] = {"draws": int(next(iter(thinned.values())).size), "thin": step}
    for p, values in thinned.items():
        rec[f"rank_{p}"] = int((values < truth[p]).sum())
    return rec


def _per_chain(values: np.ndarray) -> np.ndarray:
    """(chain, draw) values of a scalar or one-group parameter."""
    values = np.asarray(values, dtype=float)
    return values.reshape(values.shape[0], values.shape[1], -1)[:, :, 0]


def replicate(index: int, seed: int, draws: int = 100, tune: int = 200, chains: int = 2) -> dict:
    """One SBC replication: ranks of the true values among the ESS-thinned draws (0..L, L in
    column `draws`, the thinning step in `thin`) and its seeds."""
    base = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
    for attempt in range(MAX_TRIES):
        data_seed = (base + attempt) % 2**32
        truth, counts = prior_draw(data_seed)
        if counts.max() > MAX_COUNT or counts.max() == 0:
            continue
        try:
            result = fit(synthetic_dataset(counts), settings=FitSettings(
                draws=draws, tune=tune, chains=chains, seed=data_seed), cache_root=None, progress=False)
        except ForecastError:
            continue
        post = result.idata.posterior
        rec = {"replication": index, "data_seed": data_seed, "posterior_draws": draws * chains,
               "max_count": int(counts.max()),
               "divergences": int(result.idata.sample_stats["diverging"].sum())}
        rec.update(sbc_ranks({p: _per_chain(post[p].values) for p in PARAMETERS}, truth))
        rec.update({f"true_{p}": truth[p] for p in PARAMETERS})
        return rec
    raise RuntimeError(f"SBC replication {index}: no usable prior draw in {MAX_TRIES} tries")


def run_sbc(n: int, seed: int = 20240128, draws: int = 100, tune: int = 200, chains: int = 2,
            executor: str = "serial", max_workers: int = 2) -> pd.DataFrame:
    """`n` replications; executor 'serial', 'local' (processes) or a Dask scheduler address."""
    args = [(i, seed, draws, tune, chains) for i in range(n)]
    if executor == "serial":
        rows = [replicate(*a) for a in args]
    elif executor == "local":
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=max_workers, mp_context=get_context("spawn"),
                                 initializer=worker_initializer, initargs=(is_quiet(),)) as pool:
            rows = list(pool.map(replicate, *zip(*args)))
    else:
        from distributed import Client

        with Client(executor) as client:
            rows = client.gather(client.map(replicate, *zip(*args), pure=False))
    return pd.DataFrame(rows)
