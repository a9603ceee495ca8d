"""Forward simulation of the regional latent AR model: each region's rate, one shared latent.

Per region, the background follows that region's presence path (`[presence.<region>]`; a
region without one keeps its last presence) and the events and shocks that act there (all
of them unless they name `regions`). The latent AR path is the same for every region (the
kernel is called per region with the same innovations, so it draws the same u_t), and
each region's counts come from its own uniforms of the run's common random numbers. The
total (`rate`, `count`, `presence`) is over the regions the reference definition counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.core.effects import day_of, drawn_bin_log_effects
from forecast.errors import InputError
from forecast.families.latent_ar.simulate import LatentARSimulator
from forecast.scenarios.kernels import latent_ar_rates, poisson_quantiles
from forecast.scenarios.spec import Scenario
from forecast.scenarios.toolkit import Background, Horizon


@dataclass
class RegionalBackground(Background):
    """The background per region besides the total over the reference regions."""

    presence_by_region: np.ndarray | None   # (D, H, R)
    log_rate_by_region: np.ndarray          # (D, H, R), before the latent and the shocks
    rate_shocks_by_region: np.ndarray       # (D, H, R) summed log rate multipliers acting there


class RegionalARSimulator(LatentARSimulator):
    """Simulates a fitted regional latent AR model under scenarios, region by region."""

    # ---------------------------------------------------------------- checks
    def check(self, scenario: Scenario) -> None:
        super().check(scenario)
        ds = self.dataset
        if ds.regional and scenario.presence is not None:
            raise InputError(scenario.source, "this model forecasts each region, so [presence] (a total) "
                             "does not say where the troops are; write a [presence.<region>] table per "
                             f"region whose troops change (regions: {', '.join(ds.regions)}); a region "
                             "without one keeps its last presence", where="key 'presence'")
        for i, shock in enumerate(scenario.shocks):
            if shock.regions is not None and shock.parameter != "rate_multiplier":
                raise InputError(scenario.source, f"the regions share one latent process, so a "
                                 f"{shock.parameter} shock acts on all of them; leave out 'regions'",
                                 where=f"key 'shocks[{i}].regions'")

    # ------------------------------------------------------------ background
    def log_mean_by_region(self, presence: np.ndarray | None, covariates: list[np.ndarray],
                           h: int) -> np.ndarray:
        """(D, H, R) log background before events: intercept, regional level, presence, covariates.

        The numpy twin of the graph's mean structure (tests/families/test_regional_ar.py)."""
        draws, model = self.draws, self.model
        shared = super().log_mean(None, covariates, h)          # intercept and covariates
        out = np.repeat(shared[:, :, None], len(self.dataset.regions), axis=2)
        if draws.has("region_offset"):
            out = out + draws.get("region_offset")[:, None, :]
        if presence is not None:
            with np.errstate(divide="ignore"):
                log_p = np.log(presence / model.region_ref[None, None, :])
            out = out + draws.get("elasticity")[:, None, None] * np.where(presence > 0, log_p, 0.0)
        return out

    def background(self, scenario: Scenario, seed: int) -> RegionalBackground:
        """Per region: presence, the log background with the events acting there, the rate shocks."""
        self.check(scenario)
        ds, n = self.dataset, self.draws.n
        horizon = Horizon.for_scenario(ds.axis, scenario)
        future = horizon.future
        h, regions = future.n, list(ds.regions)
        presence = self.region_presence(scenario, future, seed)
        covariates = self.covariate_paths(scenario, future, day_of(ds.axis.ends[-1]), seed)
        log_rate = self.log_mean_by_region(presence, covariates, h)
        effects, log_vol = self._historical_effects(future)
        log_rate = log_rate + effects[:, :, None]
        drawn, log_vol = self.scenario_events(scenario, future, seed, log_vol)
        # regions with the same events share one computation of their effects
        acting: dict[tuple[int, ...], np.ndarray] = {}
        for j, region in enumerate(regions):
            here = tuple(i for i, e in enumerate(scenario.events) if e.regions is None or region in e.regions)
            if here not in acting:
                acting[here] = drawn_bin_log_effects(future, [drawn[i] for i in here], n)
            log_rate[:, :, j] = log_rate[:, :, j] + acting[here]
        log_shocks = {name: np.zeros((n, h)) for name in self.model.shocks}
        rate_shocks = np.zeros((n, h, len(regions)))
        for shock in scenario.shocks:
            factor = self.shock_log_factor(shock, future, seed)
            if shock.parameter == "rate_multiplier":
                for j, region in enumerate(regions):
                    if shock.regions is None or region in shock.regions:
                        rate_shocks[:, :, j] += factor
                if shock.regions is not None:
                    continue
            log_shocks[shock.parameter] += factor
        mask = self.model.total_mask.astype(bool)
        total_presence = None if presence is None else presence[:, :, mask].sum(axis=2)
        with np.errstate(divide="ignore"):
            open_ = np.ones(log_rate.shape, dtype=bool) if presence is None else presence > 0
            total_log = np.log(np.where(open_, np.exp(log_rate), 0.0)[:, :, mask].sum(axis=2))
        return RegionalBackground(horizon, total_presence, total_log, log_vol, log_shocks, drawn,
                                  presence, log_rate, rate_shocks)

    # -------------------------------------------------------------- simulate
    def simulate(self, scenario: Scenario, seed: int) -> dict[str, np.ndarray]:
        """Draws per region and their total over the reference regions, each (D, months[, R])."""
        bg = self.background(scenario, seed)
        draws = self.draws
        n, h, n_regions = bg.log_rate_by_region.shape
        log_sigma = np.log(draws.get("sigma"))[:, None] + bg.log_volatility
        log_sigma = log_sigma + bg.log_shocks["volatility_multiplier"]
        # one latent innovation stream (shared by the regions), one uniform stream per region;
        # with one region these are exactly latent_ar's common random numbers
        innovations, *uniforms = self.common_noise(seed, (n, h), ("normal",) + ("uniform",) * n_regions)
        rho, u_last = draws.get("rho"), draws.get("u")[:, -1]
        rates, counts = np.empty((n, h, n_regions)), np.empty((n, h, n_regions))
        for j in range(n_regions):
            open_ = (np.ones((n, h), dtype=bool) if bg.presence_by_region is None
                     else bg.presence_by_region[:, :, j] > 0)
            log_rate = bg.log_rate_by_region[:, :, j] + bg.rate_shocks_by_region[:, :, j]
            rates[:, :, j] = latent_ar_rates(rho, u_last, log_sigma, innovations, log_rate, self.rate_cap,
                                             open_)
            counts[:, :, j] = poisson_quantiles(uniforms[j], rates[:, :, j])
        mask = self.model.total_mask.astype(bool)
        out = self.outputs(bg, rates[:, :, mask].sum(axis=2), counts[:, :, mask].sum(axis=2))
        keep = slice(bg.horizon.first_reported, None)
        out["rate_by_region"] = rates[:, keep]
        out["count_by_region"] = counts[:, keep].astype(np.int64)
        out["presence_by_region"] = (bg.presence_by_region if bg.presence_by_region is not None
                                     else np.full((n, h, n_regions), np.nan))[:, keep]
        out["regions"] = np.array(self.dataset.regions)
        out["total_regions"] = np.array(self.dataset.regions)[mask]
        out["capped_share"] = float((out["rate_by_region"] >= self.rate_cap).any(axis=2).mean())
        out["future_rate_by_region"] = rates
        return out

    def history_log_background(self, first_bin: int = 0) -> np.ndarray:
        """(D, bins, R) log mean structure per region over the data's bins, events included."""
        ds, n = self.dataset, self.draws.n
        presence = (None if self.model.region_presence is None
                    else np.tile(self.model.region_presence[None], (n, 1, 1)))
        covariates = [np.tile(ds.covariates[c].to_numpy(float), (n, 1)) for c in ds.covariates.columns]
        log_rate = self.log_mean_by_region(presence, covariates, ds.axis.n)
        if self.model.kinds:
            segment_effect = sum(self._kind_effect(design) for design in self.model.kinds)
            log_rate = log_rate + self.model.segments.bin_log_sum(segment_effect)[:, :, None]
        return log_rate[:, first_bin:]
