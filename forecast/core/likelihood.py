"""The interval observation likelihood: P(lo <= Y <= hi) with Y ~ Poisson(mu).

Exact counts have lo = hi, "at least k" has hi = inf, approximate figures a finite
interval. Finite intervals are summed term by term (they are narrow); open intervals
use the regularised incomplete gamma function (its uniform asymptotic expansion for large
lo), switching to a convergent series far in the lower tail where it underflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from forecast.lazy import lazy_module

# imported on first use: the quick commands import this module but never evaluate it
pt, stats = lazy_module("pytensor.tensor"), lazy_module("scipy.stats")


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


# The open interval log P(Y >= lo) = log P(lo, mu), P the regularised lower incomplete gamma
# function, by region (each within about 1e-9 of exact summation, with a finite gradient, for
# lo up to 1e7 and any mu): far below the bulk (mu < lo / 2) the pmf at lo times a series that
# converges geometrically there; above that, the incomplete gamma function for lo below
# TEMME_MIN_LO (where it neither underflows nor runs out of series terms), and Temme's uniform
# asymptotic expansion in log form for larger lo (the gamma function underflows from lo ~ 3,600
# at mu = lo / 2, and PyTensor's C gammainc stops its series after 1,024 terms, short of what
# mu near lo needs once lo reaches ~1e5). Every branch is a handful of elementwise operations.
SERIES_TERMS = 60
TEMME_MIN_LO = 1000
CF_DEPTH = 40


def _temme_log_p(x: pt.TensorVariable, a: np.ndarray) -> pt.TensorVariable:
    """log P(a, x) by Temme's uniform expansion with two correction terms (DLMF 8.12.3-8.12.8):
    P = erfc(-eta sqrt(a/2)) / 2 - exp(-a eta^2 / 2) c, c = (c0 + c1 / a) / sqrt(2 pi a),
    lambda = x / a, eta^2 / 2 = lambda - 1 - log(lambda), eta of the sign of lambda - 1.
    Below the bulk (eta < 0) as -a eta^2 / 2 + log(erfcx(-eta sqrt(a/2)) / 2 - c), which
    cannot underflow. Relative error below 1e-9 for a >= 1000. Near lambda = 1 the
    coefficients are their Taylor series (the closed forms cancel), and eta = t sqrt(g(t)),
    t = lambda - 1, so that its gradient is finite at t = 0."""
    t = x / a - 1.0
    small_t = pt.abs(t) < 1e-3
    t_g = pt.where(small_t, 1.0, t)
    g_exact = 2.0 * (t_g - pt.log1p(t_g)) / t_g**2
    g_series = 1.0 - 2.0 * t / 3.0 + t**2 / 2.0 - 2.0 * t**3 / 5.0
    eta = t * pt.sqrt(pt.where(small_t, g_series, g_exact))
    small_eta = pt.abs(eta) < 0.05
    e_c, t_c = pt.where(small_eta, 1.0, eta), pt.where(small_eta, 2.0, t)
    c0_exact = 1.0 / t_c - 1.0 / e_c
    c1_exact = 1.0 / e_c**3 - 1.0 / t_c**3 - 1.0 / t_c**2 - 1.0 / (12.0 * t_c)
    c0_series = -1.0 / 3.0 + eta / 12.0 - 2.0 * eta**2 / 135.0 + eta**3 / 864.0 + eta**4 / 2835.0
    c1_series = -1.0 / 540.0 - eta / 288.0 + eta**2 / 378.0 - 77.0 * eta**3 / 77760.0
    # c0 < 0 for every eta, so both brackets below stay positive on either branch's inputs
    c = (pt.where(small_eta, c0_series, c0_exact)
         + pt.where(small_eta, c1_series, c1_exact) / a) / np.sqrt(2.0 * np.pi * a)
    scale = np.sqrt(a / 2.0)
    below, above = pt.minimum(eta, 0.0), pt.maximum(eta, 0.0)
    log_below = -a * below**2 / 2.0 + pt.log(0.5 * pt.erfcx(-below * scale) - c)
    log_above = pt.log(0.5 * pt.erfc(-above * scale) - pt.exp(-a * above**2 / 2.0) * c)
    return pt.where(eta < 0.0, log_below, log_above)


def _log_upper_tail(mu: pt.TensorVariable, log_mu: pt.TensorVariable, lo: np.ndarray) -> pt.TensorVariable:
    """log P(Y >= lo), finite and accurate from mu << lo to mu >> lo, for any lo."""
    lo_f = lo.astype(float)
    lo_1 = np.maximum(lo_f, 1.0)
    positive = lo > 0
    big = lo_f >= TEMME_MIN_LO
    # Far lower tail: P(Y >= lo) = pmf(lo) * sum_j mu^j / ((lo+1)...(lo+j)).
    j = np.arange(SERIES_TERMS, dtype=float)
    log_den = special.gammaln(lo_f[:, None] + j[None, :] + 1.0) - special.gammaln(lo_f + 1.0)[:, None]
    series = pt.logsumexp(j[None, :] * log_mu[:, None] - log_den, axis=1)
    log_pmf = lo_f * log_mu - mu - special.gammaln(lo_f + 1.0)
    in_tail = mu < 0.5 * lo_f
    tail = log_pmf + series
    # Each branch gets inputs that are safe for it, so unused branches give no NaN gradients.
    if (~big).any():
        not_gamma = in_tail | big if big.any() else in_tail
        mu_gamma = pt.where(not_gamma, lo_1, mu)
        tail = pt.where(not_gamma, tail, pt.log(pt.gammainc(lo_1, mu_gamma)))
    if big.any():
        not_temme = in_tail | ~big if (~big).any() else in_tail
        mu_temme = pt.where(not_temme, lo_1, mu)
        tail = pt.where(not_temme, tail, _temme_log_p(mu_temme, lo_1))
    return pt.where(positive, tail, 0.0)


def _log_tail_ratio(mu: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """log P(Y >= lo) / P(Y = lo) for mu below lo, as the continued fraction of
    1F1(1; lo + 1; mu) = 1 / (1 - mu / (lo + 1 + 1 mu / (lo + 2 - (lo + 1) mu / (lo + 3
    + 2 mu / (lo + 4 - ...))))), evaluated backwards at a fixed depth (converged to double
    precision wherever P(Y >= lo) is below 1e-300)."""
    d = lo + CF_DEPTH
    for n in range(CF_DEPTH - 1, 0, -1):
        m = n + 1
        mult = m / 2 if m % 2 == 0 else -(lo + (m - 1) / 2)
        d = lo + n + mult * mu / d
    return -np.log1p(-mu / d)


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
    # (exact counts are the pmf itself); an open interval far above mu is the pmf at lo
    # times the tail ratio (a continued fraction).
    broken = ~np.isfinite(out) & finite
    if broken.any():
        k_lo, m = lo[broken], mu[broken]
        k_hi = hi[broken]
        width = int(np.max(k_hi - k_lo)) + 1
        ks = k_lo[:, None] + np.arange(width)[None, :]
        terms = np.where(ks <= k_hi[:, None], stats.poisson.logpmf(ks, m[:, None]), -np.inf)
        out = out.copy()
        out[broken] = special.logsumexp(terms, axis=1)
    deep = ~finite & (lo > 0) & ~np.isfinite(out)
    if deep.any():
        # scipy's log of the survival function underflows to -inf (P(Y >= lo) < 1e-308)
        out = out.copy()
        out[deep] = stats.poisson.logpmf(lo[deep], mu[deep]) + _log_tail_ratio(mu[deep], lo[deep])
    return out


# numpy's Poisson generator refuses rates above ~1e19 ("lam value too large"): a vague prior's
# prior predictive reaches them (an intercept with sd 100 gives exp(300)). Draws are capped
# here, for simulated counts only; the likelihood never sees the cap.
POISSON_DRAW_MAX = 1e15


def poisson_draws(mu: np.ndarray, rng: np.random.Generator, size: object = None) -> np.ndarray:
    """Poisson counts for the prior and posterior predictive, finite for any rate."""
    safe = np.clip(np.nan_to_num(np.asarray(mu, dtype=float), nan=0.0, posinf=POISSON_DRAW_MAX),
                   0.0, POISSON_DRAW_MAX)
    return rng.poisson(safe, size=size)

