"""Regional latent AR: the latent AR model with a level and a presence per region.

    log lambda_{r,s} = a + a_r + g log(presence_{r,t} / ref_r) + X_t b + u_t + sum_j effect_j(s)
                       + log(share_s)
    a_r = tau z_r,  z_r ~ N(0, 1),  tau ~ region_sd          (partial pooling; sampled as the
                                                             centre a + mean(a_r) and zero-sum
                                                             deviations, `_region_levels`)
    lambda_{r,s} = 0 where presence_{r,t} = 0                (no US forces, no attacks on them)
    P(lo_i <= Y_i <= hi_i),  Y_i ~ Poisson(pi_{d(i)} sum_r cover_ir sum_s w_is lambda_{r,s})

One latent AR(1) u_t (as in `latent_ar`) is shared by the regions; the event effects act on
every region. ref_r is the geometric mean of region r's positive presence, so a + a_r is the
region's level at its own typical footprint and the elasticity g is learnt from changes
within regions (forecast/data/REGIONS.md). `rate` is the total over the regions the
reference definition counts, so every consumer of a total keeps working; `rate_by_region`
has each region. Data without regions have the one region 'all' and no a_r: the model is
then `latent_ar` with the presence reference taken over positive presence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.effects_graph import bin_log_multiplier
from forecast.core.predictive import PoissonMixture, Predictive
from forecast.data.dataset import Dataset
from forecast.data.simulate_regions import presence_reference
from forecast.families.latent_ar.graph import LatentARModel, parameter_families, span_sums
from forecast.families.regional_ar.simulate import RegionalARSimulator
from forecast.lazy import lazy_module
from forecast.scenarios.toolkit import observed_scenario

az, pm, pt = lazy_module("arviz"), lazy_module("pymc"), lazy_module("pytensor.tensor")   # imported when used


def regional_parameter_families() -> dict[str, str]:
    """The latent AR model's prior families and the spread of the regional levels."""
    return {**parameter_families(), "region_sd": "positive"}


def total_regions(dataset: Dataset) -> np.ndarray:
    """(regions,) 1 for the regions the total that `rate` reports counts (Dataset.reference_regions)."""
    return dataset.reference_regions()


class RegionalARModel(LatentARModel):
    """The latent AR family with partially pooled regional levels and per-region presence."""

    name = "regional_ar"
    # 2: a kind's single event group sampled as effect | sd, mean | effect, sd; 3: the regional
    # levels sampled as their centre and zero-sum deviations (`_region_levels`)
    revision = 3
    regional = True
    supports_exact_loo = False
    key_parameters: ClassVar[tuple[str, ...]] = (*LatentARModel.key_parameters, "region_sd", "region_offset")

    def __init__(self, dataset: Dataset, priors_file: str | Path | None = None) -> None:
        super().__init__(dataset, priors_file)
        self.pooled = len(dataset.regions) > 1          # one region has no level of its own
        by_region = dataset.presence_by_region if dataset.presence is not None else None
        self.region_presence = None if by_region is None else np.asarray(by_region, float)   # (T, R)
        if self.region_presence is None:
            self.region_ref = np.ones(len(dataset.regions))
            self.open_bins = np.ones((dataset.axis.n, len(dataset.regions)), dtype=bool)
        else:
            self.region_ref = presence_reference(self.region_presence)
            self.open_bins = self.region_presence > 0
        self.total_mask = total_regions(dataset)

    @classmethod
    def default_priors_files(cls) -> tuple[Path, ...]:
        # the latent AR defaults, then this family's additions (one copy of the shared priors)
        return (*LatentARModel.default_priors_files(), cls.default_priors_file())

    @classmethod
    def parameter_families(cls) -> dict[str, str]:
        return regional_parameter_families()

    @property
    def log_presence(self) -> np.ndarray | None:
        """(T, R) log(presence / ref_r), 0 where a region has no forces (its rate is 0 there)."""
        if self.region_presence is None:
            return None
        p = self.region_presence
        safe = np.where(p > 0, p, self.region_ref[None, :])
        return np.log(safe / self.region_ref[None, :])

    # ------------------------------------------------------------------ graph
    def coords(self) -> dict[str, Any]:
        return {**super().coords(), "region": list(self.dataset.regions)}

    def build(self) -> pm.Model:
        ds = self.dataset
        n_bins, n_regions = ds.axis.n, len(ds.regions)
        priors = self.priors
        seg = self.segments
        with pm.Model(coords=self.coords()) as model:
            if self.pooled:
                log_mean = self._region_levels()[None, :] * pt.ones((n_bins, n_regions))
            else:
                log_mean = priors.get("intercept").rv("intercept") * pt.ones((n_bins, n_regions))
            if self.log_presence is not None:
                elasticity = priors.get("elasticity").rv("elasticity")
                log_mean = log_mean + elasticity * self.log_presence
            if not ds.covariates.empty:
                log_mean = log_mean + self._covariate_term()[:, None]
            seg_effect, u = self._events_and_latent_path(n_bins)
            # (T, R): the parity test compares it with the simulator's numpy
            self.log_background = log_mean + bin_log_multiplier(seg, seg_effect)[:, None]
            log_seg = ((log_mean + u[:, None])[seg.bin_of] + seg_effect[:, None]
                       + np.log(seg.share)[:, None]).T                        # (R, S)
            # log presence is finite everywhere, so where() keeps the gradients finite
            seg_rate = pt.where(self.open_segments(), pt.exp(log_seg), 0.0)
            if seg.whole_bins:
                rate_by_region = pm.Deterministic("rate_by_region", seg_rate, dims=("region", "bin"))
            else:
                pm.Deterministic("segment_rate_by_region", seg_rate, dims=("region", "segment"))
                pm.Deterministic("segment_rate", pt.dot(self.total_mask, seg_rate), dims="segment")
                rate_by_region = pm.Deterministic("rate_by_region", pt.dot(seg_rate, self.bin_matrix()),
                                                  dims=("region", "bin"))
            pm.Deterministic("rate", pt.dot(self.total_mask, rate_by_region), dims="bin")
            ratio = self._ratios()
            mu = ratio[self._definition_index()] * span_sums(self.observation_weights(), seg_rate.flatten())
            self._likelihood(mu)
        self.model = model
        return model

    def _region_levels(self) -> Any:
        """(R,) a + a_r, the regions' log levels, with a ~ intercept, a_r = tau z_r, z_r ~ N(0, 1).

        Only a + a_r enters the likelihood, and the data pin each region's level, so in
        (a, z_1..z_R) the common shift (a up, every z down) is a ridge (posterior correlation
        0.96 between Iraq's and Syria's z on the bundled data; trees of depth 9). Sampled
        instead, as the same joint law: the centre c = a + tau mean(z) ~ N(mu, s^2 + tau^2 / R),
        the deviations z - mean(z) ~ ZeroSumNormal(1) (independent of mean(z)), and a given
        (c, tau) from its normal-normal conditional, which the data never see. A user's
        non-Normal intercept prior has no closed form and keeps the plain non-centred form.
        """
        priors = self.priors
        prior = priors.get("intercept")
        region_sd = priors.get("region_sd").rv("region_sd")
        if prior.dist != "Normal":
            intercept = prior.rv("intercept")
            region_z = pm.Normal("region_z", 0.0, 1.0, dims="region")
            offset = pm.Deterministic("region_offset", region_sd * region_z, dims="region")
            return intercept + offset
        mu, sigma = prior.params["mu"], prior.params["sigma"]
        var_a, var_mean = sigma**2, region_sd**2 / len(self.dataset.regions)
        total = var_a + var_mean
        centre = mu + pt.sqrt(total) * pm.Normal("region_centre_z", 0.0, 1.0)
        levels = centre + region_sd * pm.ZeroSumNormal("region_spread_z", sigma=1.0, dims="region")
        # a | c, tau: precision-weighted, written with variances so that tau -> 0 stays finite
        intercept = pm.Deterministic(
            "intercept", (mu * var_mean + centre * var_a) / total
            + pt.sqrt(var_a * var_mean / total) * pm.Normal("intercept_z", 0.0, 1.0))
        pm.Deterministic("region_offset", levels - intercept, dims="region")
        return levels

    def open_segments(self) -> np.ndarray:
        """(R, S) True where the segment's region has forces."""
        return self.open_bins[self.segments.bin_of].T

    def bin_matrix(self) -> np.ndarray:
        """(S, T) 1 where segment s lies in bin t (segment rates @ this = bin rates)."""
        seg = self.segments
        out = np.zeros((seg.n, seg.n_bins))
        out[np.arange(seg.n), seg.bin_of] = 1.0
        return out

    # --------------------------------------------------- the parent's numpy paths
    def observation_weights(self, rows: pd.DataFrame | None = None) -> np.ndarray:
        """(rows, R * S) share of each (region, segment) cell inside each observation: the
        segment's share of days times whether the row counts the region (and the region has
        forces then), flattened region-major like `segment_rates`. The parent's likelihood and
        predictives then sum the regions and the segments in one product."""
        rows = self.dataset.fitted if rows is None else rows
        days = self.segments.weights(rows["start"], rows["end"])                   # (rows, S)
        cover = self.dataset.region_cover(rows)                                    # (rows, R)
        cells = cover[:, :, None] * days[:, None, :] * self.open_segments()[None]
        return cells.reshape(len(rows), -1)

    def segment_rates(self, posterior: xr.Dataset) -> xr.DataArray:
        """Draws of the rate per (region, segment) cell, flattened region-major: (chain, draw, cell)."""
        name = "segment_rate_by_region" if "segment_rate_by_region" in posterior else "rate_by_region"
        rates = posterior[name].transpose("chain", "draw", "region", ...)
        values = rates.values.reshape(rates.shape[0], rates.shape[1], -1)
        return xr.DataArray(values, dims=("chain", "draw", "cell"),
                            coords={"chain": posterior["chain"], "draw": posterior["draw"]})

    # -------------------------------------------------------------- simulate
    def simulator(self, posterior: xr.Dataset | None) -> RegionalARSimulator:
        return RegionalARSimulator(self, posterior)

    def target_predictives(self, posterior: xr.Dataset, dataset: Dataset, origin: int, horizon: int,
                           rows: pd.DataFrame, seed: int) -> list[Predictive | None]:
        """Per target, the mixture over draws of Poisson(pi_d * sum_r cover_r sum_t w_t lambda_{r,t})."""
        months = min(horizon, dataset.axis.n - origin)
        sim = self.simulator(posterior)
        scenario = observed_scenario(dataset, origin, months, by_region=True)
        by_region = sim.simulate(scenario, seed)["rate_by_region"]                 # (D, months, R)
        weights = dataset.weights(rows)[:, origin:origin + months]
        cover = dataset.region_cover(rows)
        out: list[Predictive | None] = []
        for (_, row), w, c in zip(rows.iterrows(), weights, cover):
            mu = np.einsum("dtr,t,r->d", by_region, w, c)
            if row["definition"] != self.dataset.reference:
                log_ratio = sim.draws.post["log_ratio"].sel(definition=row["definition"]).values
                mu = mu * np.exp(np.asarray(log_ratio, dtype=float))
            out.append(PoissonMixture(mu))
        return out

    def exact_loo_refitter(self, fit_one: Any, idata: az.InferenceData) -> az.SamplingWrapper:
        raise NotImplementedError(f"{self.name} does not support exact LOO refits")

    def describe(self, idata: az.InferenceData) -> list[str]:
        """The regional levels, and which regions no fitted row counts (their level is a prior draw)."""
        post = idata.posterior
        if "region_offset" not in post:
            return []
        intercept = post["intercept"]
        items = []
        counted = self.dataset.region_cover().max(axis=0) > 0
        for j, region in enumerate(self.dataset.regions):
            level = np.exp(intercept + post["region_offset"].isel(region=j)).values.ravel()
            lo, mid, hi = np.quantile(level, [0.05, 0.5, 0.95])
            note = "" if counted[j] else (" (no fitted observation counts this region: its level is a "
                                          "draw from the pooled prior, and forecasts there carry that)")
            items.append(f"<li>{region}: {mid:.2g} attacks a month at its typical presence "
                         f"(90% interval {lo:.2g} to {hi:.2g}){note}.</li>")
        return items
