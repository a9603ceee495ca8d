"""Predictive distributions of a count (a span total) and the scores of one observation.

Every forecast of a target is a count distribution for the total over the target's span:

- `PoissonMixture(mu)`: Y ~ Poisson(mu_d) with d drawn uniformly from the draws. With a single
  mean it is a Poisson (mean 0: a point mass at 0). The model's predictive is the mixture over
  posterior draws of Poisson(pi_d * sum_t w_t lambda_t), so its pmf and cdf are computed
  exactly as averages over draws (no empirical pmf and hence no floor is needed; log
  probabilities are floored at 1e-300 only against underflow).
- `NegBinomial(n, p)`: scipy's parameterisation, mean n (1 - p) / p.

Scores of an observation with interval [lo, hi] (lo = hi for exact counts, hi = inf for
"at least"):

- log score: -log P(lo <= Y <= hi) (for exact counts -log P(Y = y));
- CRPS (exact counts only): closed form for a single Poisson or negative binomial
  (scoringrules.crps_poisson / crps_negbinom); for a mixture, scoringrules.crps_ensemble on
  `CRPS_SAMPLES` counts drawn from the mixture with the origin's seed;
- coverage at 50/80/95% (exact counts only): the central interval [F^-1((1-c)/2),
  F^-1((1+c)/2)] contains y. An interval or bound observation has no coverage: "the central
  interval meets [lo, hi]" is true for almost any forecast of an "at least k" target, so it
  would read as 100% coverage at every level;
- probability of the reported interval (interval and bound observations only): P(lo <= Y <= hi)
  (not floored), averaged over targets in the summary;
- randomized PIT (exact counts only): F(y-1) + V (F(y) - F(y-1)), V ~ U(0, 1);
- Brier score of "at least one attack": (P(Y >= 1) - 1[y >= 1])^2, also for intervals whose
  bounds settle the event (lo >= 1 or hi = 0), else missing.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from forecast.core.likelihood import interval_logp_numpy
from forecast.lazy import lazy_module

# imported on first use: scoringrules compiles its kernels on import (seconds), scipy.stats is slow
sr, stats = lazy_module("scoringrules"), lazy_module("scipy.stats")

LEVELS = (0.5, 0.8, 0.95)
CRPS_SAMPLES = 4000
LOG_FLOOR = 1e-300


class PoissonMixture:
    def __init__(self, mu: np.ndarray | float) -> None:
        self.mu = np.atleast_1d(np.asarray(mu, dtype=float))
        if (self.mu < 0).any() or not np.isfinite(self.mu).all():
            raise ValueError("Poisson means must be finite and >= 0")

    @property
    def single(self) -> bool:
        return self.mu.size == 1

    @property
    def mean(self) -> float:
        return float(self.mu.mean())

    def cdf(self, k: np.ndarray | float) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        out = stats.poisson.cdf(k[..., None], self.mu).mean(axis=-1)
        return np.where(k < 0, 0.0, out)

    def log_interval(self, lo: float, hi: float) -> float:
        logs = interval_logp_numpy(self.mu, np.full(self.mu.shape, lo), np.full(self.mu.shape, hi))
        return float(special.logsumexp(logs) - math.log(self.mu.size))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(self.mu[rng.integers(0, self.mu.size, n)])

    def crps(self, y: float, rng: np.random.Generator) -> float:
        if self.single:
            if self.mu[0] == 0:
                return float(y)            # point mass at 0: CRPS = |y - 0|
            return float(sr.crps_poisson(y, self.mu[0]))
        return float(sr.crps_ensemble(y, self.sample(CRPS_SAMPLES, rng).astype(float)))

    def upper(self) -> int:
        """A count above which the distribution has no mass worth considering."""
        return int(stats.poisson.ppf(1 - 1e-9, max(self.mu.max(), 1e-9))) + 1


class NegBinomial:
    def __init__(self, n: float, p: float) -> None:
        if not (n > 0 and 0 < p <= 1):
            raise ValueError(f"negative binomial needs n > 0 and 0 < p <= 1, got {n}, {p}")
        self.n, self.p = float(n), float(p)

    @classmethod
    def from_mean(cls, mean: float, size: float) -> NegBinomial | PoissonMixture:
        if mean <= 0:
            return PoissonMixture(0.0)
        return cls(size, size / (size + mean))

    @property
    def mean(self) -> float:
        return self.n * (1 - self.p) / self.p

    def cdf(self, k: np.ndarray | float) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        return np.where(k < 0, 0.0, stats.nbinom.cdf(k, self.n, self.p))

    def log_interval(self, lo: float, hi: float) -> float:
        lower = stats.nbinom.logcdf(lo - 1, self.n, self.p) if lo > 0 else -np.inf
        if math.isinf(hi):
            return float(stats.nbinom.logsf(lo - 1, self.n, self.p)) if lo > 0 else 0.0
        upper = stats.nbinom.logcdf(hi, self.n, self.p)
        if lower == -np.inf:
            return float(upper)
        return float(upper + np.log1p(-np.exp(min(lower - upper, 0.0))))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.negative_binomial(self.n, self.p, n)

    def crps(self, y: float, rng: np.random.Generator) -> float:
        return float(sr.crps_negbinom(y, self.n, self.p))

    def upper(self) -> int:
        return int(stats.nbinom.ppf(1 - 1e-9, self.n, self.p)) + 1


class NegBinomialMixture:
    """Y ~ NB(mean_d, variance mean_d + c_d^2 mean_d^2), d uniform over the draws."""

    def __init__(self, mean: np.ndarray, overdispersion: np.ndarray) -> None:
        mean = np.asarray(mean, dtype=float)
        if (mean < 0).any() or not np.isfinite(mean).all():
            raise ValueError("negative binomial means must be finite and >= 0")
        self.mu = mean
        self.n = 1.0 / np.maximum(np.asarray(overdispersion, dtype=float), 1e-6) ** 2
        self.p = self.n / (self.n + np.maximum(mean, 1e-300))

    @property
    def mean(self) -> float:
        return float(self.mu.mean())

    def cdf(self, k: np.ndarray | float) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        out = np.where(self.mu > 0, stats.nbinom.cdf(k[..., None], self.n, self.p), 1.0).mean(axis=-1)
        return np.where(k < 0, 0.0, out)

    def log_interval(self, lo: float, hi: float) -> float:
        positive = self.mu > 0
        below = stats.nbinom.cdf(lo - 1, self.n, self.p) if lo > 0 else np.zeros_like(self.mu)
        upto = np.ones_like(self.mu) if math.isinf(hi) else stats.nbinom.cdf(hi, self.n, self.p)
        at_zero = float(lo <= 0)                       # a draw with rate 0 is a point mass at 0
        prob = float(np.where(positive, np.maximum(upto - below, 0.0), at_zero).mean())
        return math.log(prob) if prob > 0 else -math.inf

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        idx = rng.integers(0, self.mu.size, n)
        lam = rng.gamma(self.n[idx], 1.0 / self.n[idx]) * self.mu[idx]
        return rng.poisson(lam)

    def crps(self, y: float, rng: np.random.Generator) -> float:
        return float(sr.crps_ensemble(y, self.sample(CRPS_SAMPLES, rng).astype(float)))

    def upper(self) -> int:
        i = int(np.argmax(self.mu))
        return int(stats.nbinom.ppf(1 - 1e-9, self.n[i], self.p[i])) + 1 if self.mu[i] > 0 else 1


# the count distributions a family may hand the backtest
Predictive = PoissonMixture | NegBinomial | NegBinomialMixture


def quantiles(dist, probs: np.ndarray) -> np.ndarray:
    """Smallest k with F(k) >= q, for each q (by bisection: a mixture with a heavy upper tail
    can reach millions, where tabulating the cdf over every count would not fit in memory)."""
    upper = dist.upper()
    out = []
    for q in np.atleast_1d(probs):
        lo, hi = 0, upper
        while lo < hi:
            mid = (lo + hi) // 2
            if float(dist.cdf(float(mid))) >= q - 1e-12:
                hi = mid
            else:
                lo = mid + 1
        out.append(lo)
    return np.array(out, dtype=int)


COVER_COLUMNS = tuple(f"cover{int(c * 100)}" for c in LEVELS)
SCORE_COLUMNS = ("pred_mean", "log_score", *COVER_COLUMNS, "p_interval", "p_any", "brier_any", "crps",
                 "pit")


def applicable(lo: float, hi: float) -> tuple[str, ...]:
    """The score columns an observation in [lo, hi] must have (finite); the others are NaN by
    definition (CRPS, PIT and coverage need an exact count, the interval probability an
    interval, the Brier score bounds that settle "at least one attack")."""
    cols = ["pred_mean", "log_score", "p_any"]
    cols += [*COVER_COLUMNS, "crps", "pit"] if lo == hi else ["p_interval"]
    if lo >= 1 or hi == 0:
        cols.append("brier_any")
    return tuple(cols)


def score(dist, lo: float, hi: float, rng: np.random.Generator) -> dict[str, float]:
    """All scores of an observation in [lo, hi] under the predictive `dist` (NaN where a score
    does not apply: see `applicable`)."""
    exact = lo == hi
    out: dict[str, float] = {"pred_mean": float(dist.mean)}
    log_p = float(dist.log_interval(lo, hi))
    out["log_score"] = -max(log_p, math.log(LOG_FLOOR)) if not math.isnan(log_p) else math.nan
    if exact:
        probs = np.concatenate([[(1 - c) / 2, (1 + c) / 2] for c in LEVELS])
        q = quantiles(dist, probs)
        for i, col in enumerate(COVER_COLUMNS):
            out[col] = float(q[2 * i] <= lo <= q[2 * i + 1])
        out["p_interval"] = math.nan
    else:
        for col in COVER_COLUMNS:
            out[col] = math.nan
        out["p_interval"] = math.exp(log_p)
    p_any = float(1.0 - dist.cdf(0.0))
    out["p_any"] = p_any
    if lo >= 1 or hi == 0:
        out["brier_any"] = (p_any - float(lo >= 1)) ** 2
    else:
        out["brier_any"] = float("nan")
    if exact:
        out["crps"] = dist.crps(lo, rng)
        f_below, f_at = float(dist.cdf(lo - 1)), float(dist.cdf(lo))
        out["pit"] = f_below + rng.random() * (f_at - f_below)
    else:
        out["crps"] = float("nan")
        out["pit"] = float("nan")
    return out
