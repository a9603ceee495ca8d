"""Monte Carlo standard errors of many quantiles and probabilities at once.

Written by hand because ArviZ computes one array at a time: `az.mcse` costs about 1 ms of
Python per array, and a run's tables need some 8,000 of them (a quarter of a warm run). This
is ArviZ's own computation (arviz.stats.diagnostics, 0.23: split chains, FFT autocovariance,
Geyer's initial positive and initial monotone sequences; for a quantile, the ESS of the
indicator below it and the interval of the beta-distributed coverage), vectorised over a
leading axis of cells. `tests/test_mcse.py` checks it against `az.mcse` cell by cell.

Arrays are (cells, chains, draws).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.fft import next_fast_len

# the coverage of a +-1 sd interval, as ArviZ's quantile MCSE uses it
_ONE_SD = (0.1586553, 0.8413447)


def split_chains(x: np.ndarray) -> np.ndarray:
    """Each chain's first and last halves as two chains (the middle draw of an odd chain dropped)."""
    half = x.shape[-1] // 2
    return np.concatenate([x[..., :half], x[..., -half:]], axis=1)


def _autocov(x: np.ndarray) -> np.ndarray:
    n = x.shape[-1]
    centred = x - x.mean(axis=-1, keepdims=True)
    f = np.fft.rfft(centred, n=next_fast_len(2 * n), axis=-1)
    f *= np.conjugate(f)
    return np.fft.irfft(f, n=next_fast_len(2 * n), axis=-1)[..., :n] / n


def ess(x: np.ndarray) -> np.ndarray:
    """(cells,) effective sample size of each cell's chains (not split here)."""
    x = np.asarray(x, dtype=float)
    cells, m, n = x.shape
    acov = _autocov(x)
    mean_var = acov[:, :, 0].mean(axis=1) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + np.var(x.mean(axis=2), axis=1, ddof=1)
    constant = (x.max(axis=(1, 2)) - x.min(axis=(1, 2))) < np.finfo(float).resolution
    safe = np.where(constant, 1.0, var_plus)
    # rho[k]: the autocorrelation at lag k as the sequence estimators use it
    rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / safe[:, None]
    rho[:, 0] = 1.0
    # pairs P_k = rho[2k] + rho[2k + 1]; the positive sequence stops at the first pair k >= 1
    # whose sum is not positive (its first lag still counts, as ArviZ's loop leaves it), or
    # where the lags run out (ArviZ's loop runs while t < n - 3, t = 1, 3, ...)
    n_pairs = max((n - 3) // 2, 0)                  # iterations the loop can run
    k = np.arange(n_pairs + 1)
    sums = rho[:, 2 * k] + rho[:, 2 * k + 1]
    out = np.empty(cells)
    for i in range(cells):          # a few scalar steps per cell; the arrays above are shared
        out[i] = _tau_ess(rho[i], sums[i], n_pairs, m * n)
    return np.where(constant, float(m * n), out)


def _tau_ess(rho: np.ndarray, pair_sums: np.ndarray, n_pairs: int, size: int) -> float:
    # J: the number of loop iterations ArviZ runs; pair k (k = 1..J) is lags 2k, 2k + 1
    positive = pair_sums[:n_pairs + 1] > 0.0
    if not positive[0] or n_pairs == 0:
        stop = 0
    else:
        bad = np.flatnonzero(~positive[1:n_pairs])       # pairs 1..n_pairs-1 that end it
        stop = int(bad[0]) + 1 if len(bad) else n_pairs
    if stop == 0:
        tau = 0.0
    else:
        kept = np.minimum.accumulate(pair_sums[:stop])    # the initial monotone sequence
        last_pair = pair_sums[stop] if stop <= n_pairs else -1.0
        last = rho[2 * stop]
        if not last_pair >= 0.0 and not last > 0.0:
            last = 0.0
        tau = -1.0 + 2.0 * kept.sum() + last
    tau = max(tau, 1.0 / np.log10(size))
    return size / tau


# ArviZ gives no error for chains shorter than this (NaN)
MIN_DRAWS = 4


def mcse_quantiles(x: np.ndarray, probs: list[float]) -> np.ndarray:
    """(probs, cells) Monte Carlo standard error of each cell's quantiles (as az.mcse)."""
    x = np.asarray(x, dtype=float)
    cells = x.shape[0]
    if x.shape[-1] < MIN_DRAWS:
        return np.full((len(probs), cells), np.nan)
    flat = x.reshape(cells, -1)
    ordered = np.sort(flat, axis=1)
    size = flat.shape[1]
    probs = np.asarray(probs, dtype=float)
    q = np.quantile(ordered, probs, axis=1, method="linear")              # (probs, cells)
    below = (x[None] <= q[:, :, None, None]).astype(float)               # (probs, cells, chains, draws)
    e = ess(split_chains(below.reshape(-1, *x.shape[1:]))).reshape(len(probs), cells)
    p = probs[:, None]
    with np.errstate(invalid="ignore"):
        lo = stats.beta.ppf(_ONE_SD[0], e * p + 1, e * (1 - p) + 1)
        hi = stats.beta.ppf(_ONE_SD[1], e * p + 1, e * (1 - p) + 1)
    i1 = np.floor(np.fmax(lo * size - 1, 0)).astype(int)
    i2 = np.ceil(np.fmin(hi * size - 1, size - 1)).astype(int)
    rows = np.arange(cells)[None, :]
    return (ordered[rows, i2] - ordered[rows, i1]) / 2


def mcse_quantile(x: np.ndarray, prob: float) -> np.ndarray:
    """(cells,) Monte Carlo standard error of each cell's `prob` quantile (as az.mcse)."""
    return mcse_quantiles(x, [prob])[0]


def mcse_mean(x: np.ndarray) -> np.ndarray:
    """(cells,) Monte Carlo standard error of each cell's mean (as az.mcse, method "mean")."""
    x = np.asarray(x, dtype=float)
    if x.shape[-1] < MIN_DRAWS:
        return np.full(x.shape[0], np.nan)
    sd = np.std(x.reshape(x.shape[0], -1), axis=1, ddof=1)
    return sd / np.sqrt(ess(split_chains(x)))
