"""Forward simulation of the latent AR model under a scenario, vectorised over draws.

Each posterior draw continues its own latent state u_T; the month-by-month recursion
loops over the horizon (tens of steps), never over draws. The latent innovations and
the uniforms that turn rates into counts come from one common stream per run, so all
scenarios of a run are paired draw by draw (common random numbers).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from forecast.scenarios.paths import stream
from forecast.scenarios.simulate_base import RATE_CAP, ScenarioSimulator
from forecast.scenarios.spec import Scenario

SHOCKS = {"rate_multiplier": "multiplies the attack rate", "volatility_multiplier":
          "multiplies the latent volatility sigma"}


class LatentARSimulator(ScenarioSimulator):
    """Simulates one fitted latent AR model under scenarios."""

    SHOCKS = SHOCKS

    def simulate(self, scenario: Scenario, seed: int) -> dict[str, np.ndarray]:
        """Draws of presence, rate and count, each (D, months) over the scenario's horizon."""
        bg = self.background(scenario, seed)
        draws = self.draws
        n, h = bg.log_rate.shape
        log_sigma = np.log(draws.get("sigma"))[:, None] + bg.log_volatility
        log_sigma = log_sigma + bg.log_shocks["volatility_multiplier"]
        # latent AR continues from each draw's last in-sample state, with common noise
        common = stream(seed, "common")
        innovations = common.standard_normal((n, h))
        uniforms = common.random((n, h))
        rho = draws.get("rho")
        u = np.empty((n, h))
        prev = draws.get("u")[:, -1]
        sigma = np.exp(log_sigma)
        for t in range(h):
            prev = rho * prev + sigma[:, t] * innovations[:, t]
            u[:, t] = prev
        rate = np.exp(np.minimum(bg.log_rate + u, np.log(RATE_CAP)))
        rate = rate * np.exp(bg.log_shocks["rate_multiplier"])
        rate = np.minimum(rate, RATE_CAP)
        if bg.presence is not None:
            rate = np.where(bg.presence > 0, rate, 0.0)   # no US forces, no attacks on them
        counts = np.where(rate > 0, stats.poisson.ppf(uniforms, np.maximum(rate, 1e-300)), 0.0)
        return self.outputs(bg, rate, counts)
