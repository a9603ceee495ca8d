"""Default model: Poisson-lognormal with a latent AR(1) log rate.

    log lambda_s = a + g log(presence_t) + X_t b + u_t + sum_j effect_j(s) + log(share_s)
    u_t = rho u_{t-1} + sigma_t e_t,  e_t ~ N(0, 1)  (non-centred; u_1 = sigma_1 e_1;
          the recursion is one Op with a hand-written adjoint, see `ar1_op`)
    sigma_t = sigma * exp(v_g(t)),  g(t) the latest killing's group before t (0 before any)
    P(lo_i <= Y_i <= hi_i),  Y_i ~ Poisson(pi_{d(i)} * sum_s w_is lambda_s)

The latent process is per bin t (a month); the event effects act per segment s, the part
of a bin between two event days (see `forecast.core.effects`), so a war that starts on the
28th raises the rate of the last days of the month only, at full strength. `share_s` is the
segment's share of its bin's days, `w_is` the share of segment s inside observation i's
span, `pi_d` the reporting ratio of counting definition d (the reference has pi = 1). The
bin's rate `rate_t` is the sum of its segments' rates.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.effects_graph import bin_log_multiplier, bin_sum, effect_families, event_effect_graph
from forecast.core.likelihood import (
    IntervalTable,
    interval_logp,
    interval_logp_numpy,
    poisson_draws,
)
from forecast.core.predictive import PoissonMixture, Predictive
from forecast.data.dataset import Dataset
from forecast.families.base import Family
from forecast.families.latent_ar.simulate import SHOCKS, LatentARSimulator
from forecast.lazy import lazy_module
from forecast.scenarios.toolkit import observed_scenario

# imported when a graph is built: the registry and the scenario checks need none of them
az, pm, pt = lazy_module("arviz"), lazy_module("pymc"), lazy_module("pytensor.tensor")


def parameter_families() -> dict[str, str]:
    """Every prior family of this model, with the support its values must have."""
    families = {"intercept": "real", "elasticity": "real", "rho": "unit", "sigma": "positive"}
    families.update(effect_families())
    families["covariate"] = "real"
    families["reporting_ratio"] = "real"
    return families


def span_sums(weights: np.ndarray, rate: pt.TensorVariable) -> pt.TensorVariable:
    """weights @ rate using only the nonzero shares (observation spans cover few bins).

    A dense (observations x bins) product costs O(n^2) per gradient: at 520 weekly
    counts it was most of the evaluation. Rows that are one whole bin are a gather.
    """
    rows, cols = np.nonzero(weights)
    shares = weights[rows, cols]
    # one whole cell per row, in row order (a row may have none: regional_ar's closed regions)
    if np.array_equal(rows, np.arange(weights.shape[0])) and np.all(shares == 1.0):
        return rate[cols]
    # inc_subtensor adds repeated row indices up (like np.add.at)
    return pt.inc_subtensor(pt.zeros(weights.shape[0])[rows], shares * rate[cols])


class LatentARModel(Family):
    """The default family: a latent AR(1) log rate under interval-censored Poisson counts."""

    name = "latent_ar"
    # bumped whenever the graph changes its floating-point path, so cached fits are not reused
    # (2: blocked AR recursion instead of the dense matrix; 3: the recursion as one Op,
    # sparse span sums, each interval kind computed on its own rows; 4: day-level event
    # segments, partially pooled event effects, volatility regimes; 5: a kind's single group
    # sampled as effect | sd, mean | effect, sd)
    revision = 5
    shocks = SHOCKS
    volatility_effects = True
    uses_reporting_ratios = True
    key_parameters: ClassVar[tuple[str, ...]] = (
        "elasticity", "decapitation_level", "decapitation_pulse", "decapitation_volatility", "log_ratio",
        "rho", "sigma")
    loo_note = "each observation moves its own latent value"
    unpredicted_reason = "the model has no ratio for this counting definition (not fitted)"
    supports_exact_loo = True
    internal_variables = ("z",)      # the simulator continues `u`; `z` is its raw innovation

    @classmethod
    def parameter_families(cls) -> dict[str, str]:
        return parameter_families()

    # ------------------------------------------------------------------ graph
    def coords(self) -> dict[str, Any]:
        ds = self.dataset
        coords: dict[str, Any] = {"bin": ds.axis.labels, "observation": list(ds.fitted["id"])}
        if len(ds.definitions) > 1:
            coords["definition"] = ds.definitions[1:]
        if not ds.covariates.empty:
            coords["covariate"] = list(ds.covariates.columns)
        for design in self.kinds:
            coords[f"{design.kind}_group"] = design.groups
        if not self.segments.whole_bins:
            coords["segment"] = self.segments.labels()
        return coords

    def build(self) -> pm.Model:
        ds = self.dataset
        n_bins = ds.axis.n
        priors = self.priors
        with pm.Model(coords=self.coords()) as model:
            intercept = priors.get("intercept").rv("intercept")
            log_rate_mean = intercept * pt.ones(n_bins)
            if ds.presence is not None:
                elasticity = priors.get("elasticity").rv("elasticity")
                log_rate_mean = log_rate_mean + elasticity * np.log(ds.presence / self.presence_ref)
            if not ds.covariates.empty:
                log_rate_mean = log_rate_mean + self._covariate_term()
            seg = self.segments
            seg_effect, u = self._events_and_latent_path(n_bins)
            self.log_background = log_rate_mean + bin_log_multiplier(seg, seg_effect)
            seg_rate = pt.exp((log_rate_mean + u)[seg.bin_of] + seg_effect + np.log(seg.share))
            if seg.whole_bins:
                pm.Deterministic("rate", seg_rate, dims="bin")
            else:
                pm.Deterministic("rate", bin_sum(seg, seg_rate), dims="bin")
                seg_rate = pm.Deterministic("segment_rate", seg_rate, dims="segment")
            ratio = self._ratios()
            mu = ratio[self._definition_index()] * span_sums(self.observation_weights(), seg_rate)
            self._likelihood(mu)
        self.model = model
        return model

    # The pieces of the graph that the regional family shares (built in this order: the
    # order of the free variables is part of what the sampler sees).
    def _covariate_term(self) -> Any:
        """(T,) X_t b with the covariates standardised as `Scaling` records."""
        ds = self.dataset
        x = (ds.covariates.to_numpy() - self.cov_mean) / self.cov_sd
        betas = [self.priors.get("covariate", c).rv(f"beta_{c}") for c in ds.covariates.columns]
        beta = pm.Deterministic("beta", pt.stack(betas), dims="covariate")
        return pt.dot(x, beta)

    def _events_and_latent_path(self, n_bins: int) -> tuple[Any, Any]:
        """(the events' effect on the segments' log rate, the latent AR path u over the bins)."""
        priors = self.priors
        log_sigma = pt.log(priors.get("sigma").rv("sigma")) * pt.ones(n_bins)
        seg_effect = pt.zeros(self.segments.n)
        for design in self.kinds:
            effect, log_vol = event_effect_graph(design, priors, volatility=True)
            seg_effect = seg_effect + effect
            log_sigma = log_sigma + log_vol
        rho = priors.get("rho").rv("rho")
        z = pm.Normal("z", 0.0, 1.0, dims="bin")
        from forecast.families.latent_ar.ar1_op import ar1_filter_op  # PyTensor, when building

        # The first state is one innovation away from the mean level (not drawn from the
        # stationary law, whose sd grows without bound as rho -> 1): this keeps the
        # intercept and the latent level from trading off along a long ridge.
        u = pm.Deterministic("u", ar1_filter_op(rho, pt.exp(log_sigma) * z), dims="bin")
        return seg_effect, u

    def _likelihood(self, mu: Any) -> None:
        """The interval likelihood of the fitted rows given their expected counts."""
        fitted = self.dataset.fitted
        table = IntervalTable.build(fitted["lo"].to_numpy(), fitted["hi"].to_numpy())
        pm.CustomDist(
            "obs", mu,
            logp=lambda value, mu: interval_logp(mu, table),
            random=lambda mu, rng=None, size=None: poisson_draws(mu, rng, size),
            observed=fitted["count"].to_numpy(), dims="observation",
        )

    def _definition_index(self) -> np.ndarray:
        return np.array([self.dataset.definitions.index(d) for d in self.dataset.fitted["definition"]])

    def _ratios(self) -> Any:
        others = self.dataset.definitions[1:]
        if not others:
            return pt.ones(1)
        logs = [self.priors.get("reporting_ratio", d).rv(f"log_ratio__{d}") for d in others]
        log_ratio = pm.Deterministic("log_ratio", pt.stack(logs), dims="definition")
        return pt.concatenate([pt.ones(1), pt.exp(log_ratio)])

    def pointwise_log_likelihood(self, posterior: xr.Dataset) -> xr.DataArray:
        """log P(lo_i <= Y_i <= hi_i | draw) for every draw and fitted observation, in numpy."""
        fitted = self.dataset.fitted
        rate = self.segment_rates(posterior).transpose("chain", "draw", ...).values
        mu = rate @ self.observation_weights().T
        if "log_ratio" in posterior:
            log_ratio = posterior["log_ratio"].transpose("chain", "draw", "definition").values
            ratio = np.concatenate([np.ones(log_ratio.shape[:2] + (1,)), np.exp(log_ratio)], axis=-1)
            mu = mu * ratio[..., self._definition_index()]
        logp = interval_logp_numpy(mu, fitted["lo"].to_numpy(float), fitted["hi"].to_numpy(float))
        return xr.DataArray(logp, dims=("chain", "draw", "observation"),
                            coords={"chain": posterior["chain"], "draw": posterior["draw"],
                                    "observation": list(fitted["id"])})

    # -------------------------------------------------------------- simulate
    def simulator(self, posterior: xr.Dataset | None) -> LatentARSimulator:
        return LatentARSimulator(self, posterior)

    def target_predictives(self, posterior: xr.Dataset, dataset: Dataset, origin: int, horizon: int,
                           rows: pd.DataFrame, seed: int) -> list[Predictive | None]:
        """Per target, the mixture over draws of Poisson(pi_d * sum_t w_t lambda_t)."""
        months = min(horizon, dataset.axis.n - origin)
        sim = self.simulator(posterior)
        rate = sim.simulate(observed_scenario(dataset, origin, months), seed)["rate"]   # (D, months)
        weights = dataset.weights(rows)[:, origin:origin + months]
        out: list[Predictive | None] = []
        for (_, row), w in zip(rows.iterrows(), weights):
            mu = rate @ w
            if row["definition"] != self.dataset.reference:
                log_ratio = sim.draws.post["log_ratio"].sel(definition=row["definition"]).values
                mu = mu * np.exp(np.asarray(log_ratio, dtype=float))
            out.append(PoissonMixture(mu))
        return out

    def observation_predictives(self, posterior: xr.Dataset, rows: pd.DataFrame) -> list[Predictive | None]:
        rate = self.segment_rates(posterior).stack(s=("chain", "draw")).transpose("s", ...).values
        means = rate @ self.observation_weights(rows).T                 # (draws, rows)
        ratios = {self.dataset.reference: np.ones(rate.shape[0])}
        if "log_ratio" in posterior:
            log_ratio = posterior["log_ratio"].stack(s=("chain", "draw")).transpose("s", "definition")
            for definition in log_ratio["definition"].values:
                ratios[str(definition)] = np.exp(log_ratio.sel(definition=definition).values)
        return [PoissonMixture(means[:, i] * ratios[d]) if d in ratios else None
                for i, d in enumerate(rows["definition"])]

    def exact_loo_refitter(self, fit_one: Any, idata: az.InferenceData) -> az.SamplingWrapper:
        from forecast.families.latent_ar.exact_loo import LeaveOneOutRefit

        return LeaveOneOutRefit(self.dataset, fit_one, idata)
