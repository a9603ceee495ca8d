"""Forward simulation of the Hawkes negative binomial model under a scenario.

Month by month, vectorised over draws: the rate of bin t is the scenario's background
plus eta_t times the kernel-weighted counts of the previous K bins, observed ones first,
then the draw's own simulated ones (so simulated attacks trigger later attacks). Counts
are drawn by inverse CDF from the run's common uniforms, so scenarios are paired draw by
draw. Shocks: `rate_multiplier` multiplies the background, `branching_multiplier`
multiplies eta from its date (a factor that takes eta to 1 or above makes the process
explosive over the horizon; rates are capped at the simulator's rate_cap and the capped share
reported).
"""

from __future__ import annotations

import numpy as np

from forecast.families.hawkes.kernels import kernel_weights_numpy
from forecast.lazy import lazy_module
from forecast.scenarios.spec import Scenario
from forecast.scenarios.toolkit import ScenarioSimulator

stats = lazy_module("scipy.stats")   # slow to import; scenario checks never need it

SHOCKS = {"rate_multiplier": "multiplies the background (non-triggered) attack rate",
          "branching_multiplier": "multiplies the branching ratio eta (escalation dynamic)"}


def negbin_ppf(uniforms: np.ndarray, mean: np.ndarray, overdispersion: np.ndarray) -> np.ndarray:
    """Inverse CDF of NB(mean, variance mean + c^2 mean^2); c = 0 is Poisson."""
    alpha = 1.0 / np.maximum(overdispersion, 1e-6) ** 2
    safe = np.maximum(mean, 1e-300)
    return np.where(mean > 0, stats.nbinom.ppf(uniforms, alpha, alpha / (alpha + safe)), 0.0)


class HawkesSimulator(ScenarioSimulator):
    """Simulates one fitted Hawkes model under scenarios."""


    def log_intercept(self) -> np.ndarray:
        # the fitted intercept is the log long-run mean; the background is (1 - eta) of it
        return self.draws.get("intercept") + np.log1p(-self.draws.get("branching"))

    def simulate(self, scenario: Scenario, seed: int) -> dict[str, np.ndarray]:
        """Draws of presence, (conditional) rate and count, each (D, months) over the horizon."""
        bg = self.background(scenario, seed)
        model, draws = self.model, self.draws
        n, h = bg.log_rate.shape
        lags = model.lags
        parameter = draws.get("kernel_decay" if model.kernel == "geometric" else "kernel_exponent")
        kernel = kernel_weights_numpy(model.kernel, parameter, lags)           # (D, K), lag 1 first
        eta = draws.get("branching")[:, None] * np.exp(bg.log_shocks["branching_multiplier"])
        background = np.exp(np.minimum(bg.log_rate, np.log(self.rate_cap)))
        background = background * np.exp(bg.log_shocks["rate_multiplier"])
        overdispersion = draws.get("overdispersion")
        past = np.zeros(lags)
        tail = model.counts[-lags:]
        past[lags - tail.size:] = tail                                        # oldest .. newest
        history = np.concatenate([np.tile(past, (n, 1)), np.zeros((n, h))], axis=1)
        (uniforms,) = self.common_noise(seed, (n, h), ("uniform",))
        open_bins = np.ones((n, h), dtype=bool) if bg.presence is None else bg.presence > 0
        rate = np.empty((n, h))
        for t in range(h):
            recent = history[:, t:t + lags][:, ::-1]                          # lag 1 first
            lam = background[:, t] + eta[:, t] * np.einsum("dk,dk->d", kernel, recent)
            lam = np.where(open_bins[:, t], np.minimum(lam, self.rate_cap), 0.0)   # no US forces, no attacks
            rate[:, t] = lam
            history[:, lags + t] = negbin_ppf(uniforms[:, t], lam, overdispersion)
        return self.outputs(bg, rate, history[:, lags:])
