"""Compiled inner loops of the scenario simulation (numba, cached on disk).

scipy's Poisson inverse CDF (a root search per value) was 90% of simulating 4,000
draws x 10 scenarios x 36 months; here it is a direct search outward from the mode.
The loops release the GIL and run on row chunks in a thread pool, one chunk per core
(plain threads rather than numba's parallel loops, whose default threading layer is
not safe to call from several threads at once, as a threaded executor would).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

# a sum of pmf terms below this share of the running total no longer changes it
_NEGLIGIBLE = 1e-18


@numba.njit(cache=True)
def _log_pmf(k: float, lam: float) -> float:
    return k * math.log(lam) - lam - math.lgamma(k + 1.0)


@numba.njit(cache=True)
def _poisson_quantile(u: float, lam: float) -> float:
    """Smallest k with P(Y <= k) >= u for Y ~ Poisson(lam) (what scipy's ppf returns).

    Rates under 30: the cdf summed from 0. Larger: the cdf at the mode (summed downwards
    until its terms vanish), then walked to u. The far upper tail (1 - u < 1e-3) instead
    sums the survival function from the far end inwards and compares it with 1 - u (exact
    in floating point for u >= 1/2): a cdf summed towards 1 cannot resolve u within 1e-12
    of 1.
    """
    if lam <= 0.0 or u <= 0.0:
        return 0.0
    if u >= 1.0:
        return math.inf
    q = 1.0 - u
    if lam < 30.0 and q > 1e-3:
        # small rates: from 0 upwards (exp(-lam) does not underflow; cheapest)
        k = 0.0
        pmf = math.exp(-lam)
        cdf = pmf
        while cdf < u:
            k += 1.0
            pmf *= lam / k
            cdf += pmf
        return k
    mode = math.floor(lam)
    pmf_mode = math.exp(_log_pmf(mode, lam))
    if q > 1e-3:
        # cdf(mode), summing downwards from the mode until the terms vanish
        cdf = pmf_mode
        pmf = pmf_mode
        j = mode
        while j > 0.0:
            pmf *= j / lam
            j -= 1.0
            cdf += pmf
            if pmf < _NEGLIGIBLE * cdf:
                break
        k = mode
        pmf = pmf_mode
        if cdf >= u:
            while k > 0.0 and cdf - pmf >= u:   # the cdf one below still reaches u
                cdf -= pmf
                pmf *= k / lam
                k -= 1.0
            return k
        while cdf < u:
            k += 1.0
            pmf *= lam / k
            cdf += pmf
        return k
    # the far end: where the pmf is negligible against q
    top = mode
    pmf = pmf_mode
    while pmf >= _NEGLIGIBLE * q:
        top += 1.0
        pmf *= lam / top
    # sf(k) = P(Y > k), summed from the far end inwards; the answer is the smallest k
    # with sf(k) <= q
    sf = 0.0
    k = top
    while k > 0.0:
        if sf + pmf > q:          # sf(k - 1) = sf(k) + pmf(k) would exceed q: k is the answer
            return k
        sf += pmf
        pmf *= k / lam
        k -= 1.0
    return 0.0


WORKERS = max(1, min(os.cpu_count() or 1, 8))
_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """This process's pool (a forked worker process must not reuse its parent's threads)."""
    pid = os.getpid()
    if pid not in _POOLS:
        _POOLS[pid] = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="forecast-kernels")
    return _POOLS[pid]


def _in_chunks(rows: int, work) -> None:
    """Call work(lo, hi) on WORKERS contiguous row ranges covering 0..rows, in the pool."""
    bounds = np.linspace(0, rows, WORKERS + 1).astype(int)
    spans = [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
    if len(spans) <= 1:
        for lo, hi in spans:
            work(lo, hi)
        return
    pool = _pool()
    for future in [pool.submit(work, lo, hi) for lo, hi in spans]:
        future.result()


@numba.njit(cache=True, nogil=True)
def _poisson_quantiles(u: np.ndarray, lam: np.ndarray, out: np.ndarray) -> None:
    for i in range(u.size):
        out[i] = _poisson_quantile(u[i], lam[i])


def poisson_quantiles(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Elementwise Poisson inverse CDF of uniforms `u` at rates `lam` (same shape), as floats."""
    u = np.ascontiguousarray(u, dtype=float)
    lam = np.ascontiguousarray(np.broadcast_to(lam, u.shape), dtype=float)
    flat_u, flat_lam, out = u.reshape(-1), lam.reshape(-1), np.empty(u.size)
    _in_chunks(u.size, lambda lo, hi: _poisson_quantiles(flat_u[lo:hi], flat_lam[lo:hi], out[lo:hi]))
    return out.reshape(u.shape)


def piecewise_linear_bin_means(first: np.ndarray, last: np.ndarray, knot_x: np.ndarray,
                   knot_y: np.ndarray) -> np.ndarray:
    """(D, H) means over the days first[b]..last[b] of each bin of a piecewise-linear path.

    Row d of the path is np.interp(day, knot_x[d], knot_y[d]): flat before the first
    knot and after the last, and at knots on the same day the later one holds from that
    day on (a jump). Days are swept in order, so each row costs O(days + knots).
    """
    out = np.empty((knot_x.shape[0], first.size))
    _in_chunks(knot_x.shape[0], lambda lo, hi: _piecewise_linear_bin_means(
        first, last, knot_x[lo:hi], knot_y[lo:hi], out[lo:hi]))
    return out


@numba.njit(cache=True, nogil=True)
def _piecewise_linear_bin_means(first: np.ndarray, last: np.ndarray, knot_x: np.ndarray, knot_y: np.ndarray,
                    out: np.ndarray) -> None:
    n, k = knot_x.shape
    for d in range(n):
        xs = knot_x[d]
        ys = knot_y[d]
        j = 0
        for b in range(first.size):
            total = 0.0
            for day in range(first[b], last[b] + 1):
                x = float(day)
                while j + 1 < k and xs[j + 1] <= x:
                    j += 1
                if x < xs[0]:
                    total += ys[0]
                elif j == k - 1:
                    total += ys[k - 1]
                else:
                    slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
                    total += slope * (x - xs[j]) + ys[j]
            out[d, b] = total / (last[b] - first[b] + 1)


@numba.njit(cache=True, nogil=True)
def _latent_ar_rates(rho: np.ndarray, u_last: np.ndarray, log_sigma: np.ndarray, innovations: np.ndarray,
                     log_rate: np.ndarray, cap: float, open_: np.ndarray, out: np.ndarray) -> None:
    n, h = log_rate.shape
    log_cap = math.log(cap)
    for d in range(n):
        u = u_last[d]
        for t in range(h):
            u = rho[d] * u + math.exp(log_sigma[d, t]) * innovations[d, t]
            if not open_[d, t]:
                out[d, t] = 0.0
            elif log_rate[d, t] + u >= log_cap:
                out[d, t] = cap                      # exactly: the capped share counts these
            else:
                out[d, t] = math.exp(log_rate[d, t] + u)


def latent_ar_rates(rho: np.ndarray, u_last: np.ndarray, log_sigma: np.ndarray, innovations: np.ndarray,
                    log_rate: np.ndarray, cap: float, open_: np.ndarray) -> np.ndarray:
    """(D, H) rates exp(min(log_rate + u, log cap)) where `open_`, else 0, with the latent
    u_t = rho u_{t-1} + exp(log_sigma_t) e_t continued from u_last (per draw)."""
    args = [np.ascontiguousarray(a, dtype=float) for a in (rho, u_last, log_sigma, innovations, log_rate)]
    open_ = np.ascontiguousarray(open_, dtype=np.bool_)
    out = np.empty(log_rate.shape)
    _in_chunks(out.shape[0], lambda lo, hi: _latent_ar_rates(*(a[lo:hi] for a in args), cap,
                                                             open_[lo:hi], out[lo:hi]))
    return out
