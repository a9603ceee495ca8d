"""The interval observation likelihood: P(lo <= Y <= hi) with Y ~ Poisson(mu).

Exact counts have lo = hi, "at least k" has hi = inf, approximate figures a finite
interval. Finite intervals are summed term by term (they are narrow); open intervals
use the regularised incomplete gamma function, switching to a convergent series far
in the lower tail where the gamma function underflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from scipy import special, stats

SERIES_TERMS = 60


@dataclass(frozen=True)
class IntervalTable:
    """Constant arrays describing n observation intervals, precomputed once."""

    lo: np.ndarray          # (n,) int
    hi: np.ndarray          # (n,) float, inf for open intervals
    open_: np.ndarray       # (n,) bool
    k: np.ndarray           # (n, W) counts lo..hi of finite rows, padded
    k_mask: np.ndarray      # (n, W) bool
    k_lgamma: np.ndarray    # (n, W) log k!

    @classmethod
    def build(cls, lo: np.ndarray, hi: np.ndarray) -> IntervalTable:
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=float)
        open_ = ~np.isfinite(hi)
        width = np.where(open_, 0, hi - lo).astype(int) + 1
        w = int(width.max()) if len(width) else 1
        k = lo[:, None] + np.arange(w)[None, :]
        mask = np.arange(w)[None, :] < width[:, None]
        k = np.where(mask, k, lo[:, None])
        return cls(lo, hi, open_, k.astype(float), mask, special.gammaln(k + 1.0))


def interval_logp(mu: pt.TensorVariable, table: IntervalTable) -> pt.TensorVariable:
    """log P(lo <= Y <= hi) for Y ~ Poisson(mu), elementwise over the n intervals."""
    log_mu = pt.log(pt.maximum(mu, 1e-300))
    terms = table.k * log_mu[:, None] - mu[:, None] - table.k_lgamma
    terms = pt.where(table.k_mask, terms, -np.inf)
    finite = pt.logsumexp(terms, axis=1)
    return pt.where(table.open_, _log_upper_tail(mu, log_mu, table.lo), finite)


def _log_upper_tail(mu: pt.TensorVariable, log_mu: pt.TensorVariable, lo: np.ndarray) -> pt.TensorVariable:
    """log P(Y >= lo), stable from mu << lo to mu >> lo."""
    lo_f = lo.astype(float)
    positive = lo > 0
    # Far lower tail: P(Y >= lo) = pmf(lo) * sum_j mu^j / ((lo+1)...(lo+j)).
    j = np.arange(SERIES_TERMS, dtype=float)
    log_den = special.gammaln(lo_f[:, None] + j[None, :] + 1.0) - special.gammaln(lo_f + 1.0)[:, None]
    series = pt.logsumexp(j[None, :] * log_mu[:, None] - log_den, axis=1)
    log_pmf = lo_f * log_mu - mu - special.gammaln(lo_f + 1.0)
    in_tail = mu < 0.5 * lo_f
    # Each branch gets inputs that are safe for it, so unused branches give no NaN gradients.
    mu_gamma = pt.where(in_tail, np.maximum(lo_f, 1.0), mu)
    gamma = pt.log(pt.gammainc(np.maximum(lo_f, 1.0), mu_gamma))
    tail = pt.where(in_tail, log_pmf + series, gamma)
    return pt.where(positive, tail, 0.0)


def interval_logp_numpy(mu: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Reference implementation with scipy (used for scoring and in tests)."""
    mu = np.asarray(mu, dtype=float)
    lo = np.broadcast_to(np.asarray(lo, dtype=float), mu.shape)
    hi = np.broadcast_to(np.asarray(hi, dtype=float), mu.shape)
    upper = np.where(np.isfinite(hi), stats.poisson.logcdf(np.where(np.isfinite(hi), hi, 0), mu), 0.0)
    lower = np.where(lo > 0, stats.poisson.logcdf(lo - 1, mu), -np.inf)
    # log(exp(upper) - exp(lower)), computed stably
    with np.errstate(divide="ignore", invalid="ignore"):
        out = upper + np.log1p(-np.exp(np.minimum(lower - upper, 0.0)))
        sf = stats.poisson.logsf(lo - 1, mu)
    out = np.where(np.isfinite(hi), out, np.where(lo > 0, sf, 0.0))
    # Far in the upper tail of mu both cdfs underflow to -inf and their difference is NaN:
    # sum the pmf over lo..hi instead (exact counts are the pmf itself).
    broken = np.isnan(out) & np.isfinite(hi)
    if broken.any():
        k_lo, k_hi, m = lo[broken], hi[broken], mu[broken]
        width = int(np.max(k_hi - k_lo)) + 1
        ks = k_lo[:, None] + np.arange(width)[None, :]
        terms = np.where(ks <= k_hi[:, None], stats.poisson.logpmf(ks, m[:, None]), -np.inf)
        out = out.copy()
        out[broken] = special.logsumexp(terms, axis=1)
    return out
