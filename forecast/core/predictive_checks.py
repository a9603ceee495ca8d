"""Posterior predictive checks of interval observations."""

from __future__ import annotations

import numpy as np


def tail_probabilities(predictive: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """min(P(Y_rep <= hi), P(Y_rep >= lo)) per observation.

    predictive: (observations, samples). Small values mean the reported count or interval
    lies in a tail of what the fitted model predicts for its span; unlike P(lo <= Y_rep <= hi),
    this does not shrink for exact large counts merely because a single value is unlikely.
    """
    lo = np.asarray(lo, dtype=float)[:, None]
    hi = np.asarray(hi, dtype=float)[:, None]
    below = (predictive <= hi).mean(axis=1)
    above = (predictive >= lo).mean(axis=1)
    return np.minimum(below, above)


def outside_central(predictive: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                    level: float = 0.95) -> np.ndarray:
    """True where the reported value lies outside the central `level` predictive interval."""
    return tail_probabilities(predictive, lo, hi) < (1 - level) / 2
