"""The Hawkes kernels and lag matrix in numpy (shared by the graph and the simulator)."""

from __future__ import annotations

import numpy as np


def lag_matrix(y: np.ndarray, lags: int) -> np.ndarray:
    """(T, K) matrix of y_{t-k}, k = 1..K, zero before the series starts."""
    out = np.zeros((y.size, lags))
    for k in range(1, lags + 1):
        out[k:, k - 1] = y[:-k] if k < y.size else []
    return out


def kernel_weights_numpy(kernel: str, parameter: np.ndarray, lags: int) -> np.ndarray:
    """(D, K) normalised kernel over lags 1..K for (D,) kernel parameters."""
    k = np.arange(1, lags + 1, dtype=float)
    parameter = np.asarray(parameter, dtype=float)[:, None]
    raw = parameter ** (k - 1) if kernel == "geometric" else k ** -(1.0 + parameter)
    return raw / raw.sum(axis=1, keepdims=True)
