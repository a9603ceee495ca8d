"""Second model family: a discrete-time Hawkes (self-exciting) negative binomial model.

    lambda_t = mu_t + eta * sum_{k=1..K} g_theta(k) y_{t-k}
    log mu_t = a + log(1 - eta) + g log(presence_t / ref) + X_t b + sum_j effect_j(t)
    y_t ~ NegativeBinomial(mean lambda_t, var lambda_t + c^2 lambda_t^2)

`mu_t` is the background rate, log-linear in the same presence, covariates and event
effects (levels and decaying pulses) as the latent AR model. Its intercept is written
a + log(1 - eta) so that `a` is the log of the long-run mean mu / (1 - eta) at typical
presence without events: the data pin that mean down well, while mu and eta separately
trade off along a ridge that NUTS samples slowly. `eta` in [0, 1) is the
branching ratio (the expected number of attacks one attack triggers over the next K bins);
`g_theta` a kernel normalised over lags 1..K: geometric, g(k) ∝ theta^(k-1), or a
discretised power law, g(k) ∝ k^-(1 + omega). `c` is the overdispersion (c = 0: Poisson).

Data: the model needs a fully observed series (exact counts, one per bin, of one counting
definition) running without a gap to the last bin of the data. Bins before the first
observed bin are dropped: the excitation of the first K observed bins sums only over the
observed past (the unobserved history counts as zero attacks), so it understates the
excitation at the very start of the series; choose a series that starts in a quiet spell,
or accept that `mu` absorbs the difference there.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.effects_graph import bin_log_multiplier, effect_families, event_effect_graph
from forecast.core.predictive import NegBinomialMixture, Predictive
from forecast.data.dataset import Dataset
from forecast.errors import InputError
from forecast.families.base import Family
from forecast.families.hawkes.kernels import kernel_weights_numpy, lag_matrix
from forecast.families.hawkes.simulate import SHOCKS, HawkesSimulator
from forecast.lazy import lazy_module
from forecast.scenarios.toolkit import observed_scenario

# imported when a graph is built: the registry and the scenario checks need none of them
az, pm, pt = lazy_module("arviz"), lazy_module("pymc"), lazy_module("pytensor.tensor")
stats = lazy_module("scipy.stats")

KERNELS = ("geometric", "power_law")
# Kernel support in bins: a year of months, half a year of weeks.
KERNEL_LAGS = {"month": 12, "week": 26}


def parameter_families() -> dict[str, str]:
    """Prior families of the Hawkes models (both kernels read one priors file)."""
    families = {"intercept": "real", "elasticity": "real", "branching": "unit",
                "kernel_decay": "unit", "kernel_exponent": "positive", "overdispersion": "positive"}
    # no latent volatility here, so no volatility effects
    families.update({k: v for k, v in effect_families().items() if "_volatility" not in k})
    families["covariate"] = "real"
    return families


def observed_series(dataset: Dataset) -> tuple[int, np.ndarray, list[str]]:
    """(first bin, counts from it to the last bin, observation ids) of a fully observed series."""
    fitted = dataset.fitted
    where = f"data '{dataset.name}'"
    if len(dataset.definitions) > 1:
        raise InputError(where, "the Hawkes model needs one counting definition; this data has "
                         f"{', '.join(dataset.definitions)}")
    if (fitted["lo"] != fitted["hi"]).any():
        bad = fitted.loc[fitted["lo"] != fitted["hi"], "id"].iloc[0]
        raise InputError(where, f"the Hawkes model needs exact counts; row {bad} is a bound or a range")
    weights = dataset.weights(fitted)
    bins = weights.argmax(axis=1)
    single = np.isclose(weights.max(axis=1), 1.0) & np.isclose(weights.sum(axis=1), 1.0)
    if not single.all():
        bad = fitted["id"].iloc[int(np.flatnonzero(~single)[0])]
        raise InputError(where, f"the Hawkes model needs one count per whole {dataset.axis.freq}; "
                         f"row {bad} spans part of a bin or several bins")
    order = np.argsort(bins, kind="stable")
    bins = bins[order]
    first, n = int(bins[0]), dataset.axis.n
    expected = np.arange(first, n)
    if len(bins) != len(expected) or (bins != expected).any():
        missing = sorted(set(expected) - set(bins))
        raise InputError(where, f"the Hawkes model needs a count for every {dataset.axis.freq} from the "
                         f"first observed one ({dataset.axis.labels[first]}) to the end of the data "
                         f"({dataset.axis.labels[-1]}); missing: "
                         f"{', '.join(dataset.axis.labels[i] for i in missing[:5])}"
                         + (" ..." if len(missing) > 5 else ""))
    counts = fitted["count"].to_numpy()[order].astype(float)
    ids = list(fitted["id"].to_numpy()[order])
    return first, counts, ids


class HawkesModel(Family):
    """Self-exciting negative binomial counts with a geometric kernel."""

    kernel = "geometric"
    name = "hawkes"
    revision = 3            # bumped whenever the graph changes (cached fits are then not reused)
    shocks = SHOCKS
    volatility_effects = False
    unpredicted_reason = "not a whole-bin count of the fitted series"
    key_parameters: ClassVar[tuple[str, ...]] = (
        "elasticity", "decapitation_level", "decapitation_pulse", "branching", "kernel_decay",
        "kernel_exponent", "overdispersion")

    def __init__(self, dataset: Dataset, priors_file: Any = None) -> None:
        self.first, self.counts, self.ids = observed_series(dataset)
        self.lags = KERNEL_LAGS[dataset.axis.freq]
        super().__init__(dataset, priors_file)

    @classmethod
    def parameter_families(cls) -> dict[str, str]:
        return parameter_families()

    def first_fitted_bin(self) -> int:
        return self.first

    def coords(self) -> dict[str, Any]:
        coords: dict[str, Any] = {"bin": self.dataset.axis.labels[self.first:], "observation": self.ids,
                                  "lag": list(range(1, self.lags + 1))}
        if not self.dataset.covariates.empty:
            coords["covariate"] = list(self.dataset.covariates.columns)
        for design in self.kinds:
            coords[f"{design.kind}_group"] = design.groups
        return coords

    def kernel_graph(self) -> Any:
        k = np.arange(1, self.lags + 1, dtype=float)
        if self.kernel == "geometric":
            theta = self.priors.get("kernel_decay").rv("kernel_decay")
            raw = pt.exp((k - 1) * pt.log(theta))
        else:
            omega = self.priors.get("kernel_exponent").rv("kernel_exponent")
            raw = pt.exp(-(1.0 + omega) * np.log(k))
        return pm.Deterministic("kernel", raw / raw.sum(), dims="lag")

    def build(self) -> pm.Model:
        ds, priors, first = self.dataset, self.priors, self.first
        seen = slice(first, None)
        with pm.Model(coords=self.coords()) as model:
            eta = priors.get("branching").rv("branching")
            log_mu = (priors.get("intercept").rv("intercept") + pt.log1p(-eta)) * pt.ones(ds.axis.n - first)
            if ds.presence is not None:
                elasticity = priors.get("elasticity").rv("elasticity")
                log_mu = log_mu + elasticity * np.log(ds.presence[seen] / self.presence_ref)
            if not ds.covariates.empty:
                x = (ds.covariates.to_numpy()[seen] - self.cov_mean) / self.cov_sd
                betas = [priors.get("covariate", c).rv(f"beta_{c}") for c in ds.covariates.columns]
                log_mu = log_mu + pt.dot(x, pm.Deterministic("beta", pt.stack(betas), dims="covariate"))
            if self.kinds:
                # day-level effects, averaged over each bin's days (the counts are whole bins)
                seg_effect = sum(event_effect_graph(design, priors, volatility=False)[0]
                                 for design in self.kinds)
                log_mu = log_mu + bin_log_multiplier(self.segments, seg_effect)[first:]
            self.log_background = log_mu
            background = pm.Deterministic("background", pt.exp(log_mu), dims="bin")
            excitation = pt.dot(lag_matrix(self.counts, self.lags), self.kernel_graph())
            rate = pm.Deterministic("rate", background + eta * excitation, dims="bin")
            c = priors.get("overdispersion").rv("overdispersion")
            pm.NegativeBinomial("obs", mu=rate, alpha=1.0 / c**2, observed=self.counts.astype(np.int64),
                                dims="observation")
        self.model = model
        return model

    def fit(self, **kwargs: Any) -> az.InferenceData:
        """Sample the posterior; PyMC computes the pointwise log-likelihood (a plain NB pmf)."""
        from forecast.core.sampling import sample_posterior

        return sample_posterior(self.model or self.build(), **kwargs)

    def pointwise_log_likelihood(self, posterior: xr.Dataset) -> xr.DataArray:
        """log NB(y_t | lambda_t, c) for every draw and observed bin, in numpy."""
        rate = posterior["rate"].transpose("chain", "draw", "bin").values
        alpha = 1.0 / posterior["overdispersion"].values[..., None] ** 2
        logp = stats.nbinom.logpmf(self.counts[None, None], alpha, alpha / (alpha + rate))
        return xr.DataArray(logp, dims=("chain", "draw", "observation"),
                            coords={"chain": posterior["chain"], "draw": posterior["draw"],
                                    "observation": self.ids})

    def simulator(self, posterior: xr.Dataset | None) -> HawkesSimulator:
        return HawkesSimulator(self, posterior)

    def target_predictives(self, posterior: xr.Dataset, dataset: Dataset, origin: int, horizon: int,
                           rows: pd.DataFrame, seed: int) -> list[Predictive | None]:
        """Per target, the mixture over draws of NB(lambda_t, c), lambda_t fed by simulated counts.

        Only single-bin exact targets can be scored this way (a count series has no other kind).
        """
        months = min(horizon, dataset.axis.n - origin)
        sim = self.simulator(posterior)
        rate = sim.simulate(observed_scenario(dataset, origin, months), seed)["rate"]
        overdispersion = sim.draws.get("overdispersion")
        out: list[Predictive | None] = []
        for row in rows.itertuples(index=False):
            single = row.first_bin == row.last_bin and abs(row.bins - 1) < 1e-9
            out.append(NegBinomialMixture(rate[:, row.first_bin - origin], overdispersion)
                       if single else None)
        return out

    def observation_predictives(self, posterior: xr.Dataset, rows: pd.DataFrame) -> list[Predictive | None]:
        """NB(lambda_t, c) mixtures for exact single-bin rows of the fitted series' definition."""
        rate = posterior["rate"].stack(s=("chain", "draw")).transpose("s", "bin").values
        overdispersion = posterior["overdispersion"].stack(s=("chain", "draw")).values
        weights = self.dataset.weights(rows)
        out: list[Predictive | None] = []
        for i, row in enumerate(rows.itertuples(index=False)):
            bins = np.flatnonzero(weights[i])
            single = bins.size == 1 and np.isclose(weights[i, bins[0]], 1.0) and bins[0] >= self.first
            same = row.definition == self.dataset.reference
            out.append(NegBinomialMixture(rate[:, bins[0] - self.first], overdispersion)
                       if single and same else None)
        return out

    def describe(self, idata: az.InferenceData) -> list[str]:
        eta = idata.posterior["branching"].values.ravel()
        return [f"<li>Self-excitation: each attack triggers on average {np.median(eta):.2f} further "
                f"attacks over the following months (90% interval {np.quantile(eta, 0.05):.2f} to "
                f"{np.quantile(eta, 0.95):.2f}); that is also the long-run share of attacks that answer "
                "earlier attacks rather than the background.</li>"]


class HawkesPowerLawModel(HawkesModel):
    kernel = "power_law"
    name = "hawkes_powerlaw"


def simulate_series(background: np.ndarray, branching: float, kernel: str, kernel_parameter: float,
                    overdispersion: float, lags: int, seed: int) -> np.ndarray:
    """Counts from the model's own generative process (for recovery tests and demonstrations)."""
    rng = np.random.default_rng(seed)
    weights = kernel_weights_numpy(kernel, np.array([kernel_parameter]), lags)[0]
    y = np.zeros(background.size)
    for t in range(background.size):
        recent = y[max(0, t - lags):t][::-1]
        lam = background[t] + branching * float(weights[:recent.size] @ recent)
        if overdispersion > 0:
            lam = rng.gamma(1.0 / overdispersion**2, overdispersion**2 * lam) if lam > 0 else 0.0
        y[t] = rng.poisson(lam)
    return y
