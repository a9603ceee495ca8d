"""The interval observation likelihood: P(lo <= Y <= hi) with Y ~ Poisson(mu).

Exact counts have lo = hi, "at least k" has hi = inf, approximate figures a finite
interval. Finite intervals are summed term by term (they are narrow); open intervals
use the regularised incomplete gamma function, switching to a convergent series far
in the lower tail where the gamma function underflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from forecast.lazy import lazy_module

# imported on first use: the quick commands import this module but never evaluate it
pt, stats = lazy_module("pytensor.tensor"), lazy_module("scipy.stats")

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
    """log P(lo <= Y <= hi) for Y ~ Poisson(mu), elementwise over the n intervals.

    Each kind of interval is computed on its own rows only (exact counts are the plain
    log pmf; the incomplete gamma and its series are paid only by the open rows): with
    hundreds of exact weekly counts that is most of the gradient's cost.
    """
    exact = np.flatnonzero(~table.open_ & (table.hi == table.lo))
    ranged = np.flatnonzero(~table.open_ & (table.hi != table.lo))
    open_ = np.flatnonzero(table.open_)
    parts = []
    if len(exact):
        m = mu[exact]
        parts.append(table.k[exact, 0] * pt.log(pt.maximum(m, 1e-300)) - m - table.k_lgamma[exact, 0])
    if len(ranged):
        m = mu[ranged]
        terms = table.k[ranged] * pt.log(pt.maximum(m, 1e-300))[:, None] - m[:, None] - table.k_lgamma[ranged]
        parts.append(pt.logsumexp(pt.where(table.k_mask[ranged], terms, -np.inf), axis=1))
    if len(open_):
        m = mu[open_]
        parts.append(_log_upper_tail(m, pt.log(pt.maximum(m, 1e-300)), table.lo[open_]))
    if not parts:
        return pt.zeros(0)
    # back from (exact, ranged, open) order to the rows' order
    order = np.argsort(np.concatenate([exact, ranged, open_]), kind="stable")
    return pt.concatenate(parts)[order]


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
    """Reference implementation with scipy (used for LOO, scoring and in tests)."""
    mu = np.asarray(mu, dtype=float)
    lo = np.broadcast_to(np.asarray(lo, dtype=float), mu.shape)
    hi = np.broadcast_to(np.asarray(hi, dtype=float), mu.shape)
    finite = np.isfinite(hi)
    top = np.where(finite, hi, 0.0)
    below = np.where(lo > 0, lo - 1, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # P(lo <= Y <= hi) as a difference of cdfs when mu is above the interval, of
        # survival functions when it is below: the difference of two numbers near 1
        # would cancel to 0 (log -inf) far in the tail.
        upper = stats.poisson.logcdf(top, mu)
        lower = np.where(lo > 0, stats.poisson.logcdf(below, mu), -np.inf)
        via_cdf = upper + np.log1p(-np.exp(np.minimum(lower - upper, 0.0)))
        sf_lo = np.where(lo > 0, stats.poisson.logsf(below, mu), 0.0)
        sf_hi = stats.poisson.logsf(top, mu)
        via_sf = sf_lo + np.log1p(-np.exp(np.minimum(sf_hi - sf_lo, 0.0)))
    out = np.where(finite, np.where(mu < lo, via_sf, via_cdf), sf_lo)
    # Beyond what either difference resolves (both underflow): sum the pmf over lo..hi
    # (exact counts are the pmf itself); an open interval far above mu is its first
    # SERIES_TERMS terms (the rest are negligible there).
    broken = ~np.isfinite(out) & (finite | (mu < lo))
    if broken.any():
        k_lo, m = lo[broken], mu[broken]
        k_hi = np.where(finite[broken], hi[broken], k_lo + SERIES_TERMS - 1)
        width = int(np.max(k_hi - k_lo)) + 1
        ks = k_lo[:, None] + np.arange(width)[None, :]
        terms = np.where(ks <= k_hi[:, None], stats.poisson.logpmf(ks, m[:, None]), -np.inf)
        out = out.copy()
        out[broken] = special.logsumexp(terms, axis=1)
    return out
