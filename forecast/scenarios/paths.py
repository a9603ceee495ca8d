"""Draw scenario values, dates and covariate paths per posterior draw (numpy only)."""

from __future__ import annotations

import hashlib

import numpy as np

from forecast.core.effects import bin_day_bounds, day_of
from forecast.scenarios.spec import DateSpec, PathSpec, Value
from forecast.timeaxis import TimeAxis


def stream(seed: int, key: str) -> np.random.Generator:
    """A random stream that depends only on the run seed and the text of what it draws.

    Two scenarios that state the same uncertain date draw the same dates, so their
    contrast is exactly zero; the shared latent noise uses key 'common'.
    """
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, digest])


def draw_value(value: Value, n: int, rng: np.random.Generator) -> np.ndarray:
    if value.dist is None:
        return np.full(n, value.args[0])
    a = value.args
    if value.dist == "normal":
        return rng.normal(a[0], a[1], n)
    if value.dist == "lognormal":
        return rng.lognormal(a[0], a[1], n)
    if value.dist == "uniform":
        return rng.uniform(a[0], a[1], n)
    if value.dist == "triangular":
        return rng.triangular(a[0], a[1], a[2], n)
    raise ValueError(value.dist)


def draw_day(date: DateSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """Day numbers (days since 1970-01-01), uniform over the range when uncertain."""
    first, last = day_of(date.first), day_of(date.last)
    if first == last:
        return np.full(n, first)
    return rng.integers(first, last + 1, n)


def path_bin_means(path: PathSpec, axis: TimeAxis, start_value: np.ndarray, start_day: int,
                   seed: int, key: str) -> np.ndarray:
    """(D, H) bin averages of a piecewise-linear path, one path per draw.

    The path runs linearly from `start_value` at `start_day` to the first point, between
    points, and stays flat after the last point.
    """
    n = len(start_value)
    rng = stream(seed, key)
    days = [np.full(n, start_day)]
    values = [start_value]
    for date, value in path.points:
        days.append(draw_day(date, n, rng))
        values.append(draw_value(value, n, rng))
    knot_days = np.column_stack(days).astype(float)
    knot_values = np.column_stack(values)
    first, stop = bin_day_bounds(axis)
    last = stop - 1
    # knot days ascend in every draw: the spec requires each point (ranges included) after
    # the previous one, and check() every point on or after the first forecast day
    from forecast.scenarios.kernels import piecewise_linear_bin_means  # numba: only when simulating

    return piecewise_linear_bin_means(first, last, knot_days, knot_values.astype(float))
