"""Forward simulation of the latent AR model under a scenario, vectorised over draws.

Each posterior draw continues its own latent state u_T; the month-by-month recursion
loops over the horizon (tens of steps), never over draws. The latent innovations and
the uniforms that turn rates into counts come from one common stream per run, so all
scenarios of a run are paired draw by draw (common random numbers).
"""

from __future__ import annotations

import numpy as np

from forecast.scenarios.spec import Scenario
from forecast.scenarios.toolkit import ScenarioSimulator

SHOCKS = {"rate_multiplier": "multiplies the attack rate", "volatility_multiplier":
          "multiplies the latent volatility sigma"}


class LatentARSimulator(ScenarioSimulator):
    """Simulates one fitted latent AR model under scenarios."""


    def simulate(self, scenario: Scenario, seed: int) -> dict[str, np.ndarray]:
        """Draws of presence, rate and count, each (D, months) over the scenario's horizon."""
        from forecast.scenarios.kernels import latent_ar_rates, poisson_quantiles  # numba, when simulating

        bg = self.background(scenario, seed)
        draws = self.draws
        n, h = bg.log_rate.shape
        log_sigma = np.log(draws.get("sigma"))[:, None] + bg.log_volatility
        log_sigma = log_sigma + bg.log_shocks["volatility_multiplier"]
        # latent AR continues from each draw's last in-sample state, with common noise
        innovations, uniforms = self.common_noise(seed, (n, h), ("normal", "uniform"))
        # the rate multiplier scales the rate before the cap; no US forces, no attacks on them
        open_ = bg.presence > 0 if bg.presence is not None else np.ones((n, h), dtype=bool)
        rate = latent_ar_rates(draws.get("rho"), draws.get("u")[:, -1], log_sigma, innovations,
                               bg.log_rate + bg.log_shocks["rate_multiplier"], self.rate_cap, open_)
        counts = poisson_quantiles(uniforms, rate)   # 0 where the rate is 0
        return self.outputs(bg, rate, counts)
