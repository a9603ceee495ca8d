"""The contract every model family fulfils, and the capabilities it declares.

A family is one folder under `forecast/families/`: its PyMC graph, its numpy forward
simulator, its default priors (`priors.toml`, package data) and a README. The registry in
`forecast/families/__init__.py` is the only place that lists them; no code outside a
family's folder asks which family it holds, it asks the family (CausalPy's `supports_*`).

Obligations of a subclass (pymc-marketing's `ModelBuilder` lists its own the same way):

- class attributes `name`, `revision` (bumped when the graph's floating-point path changes,
  so cached fits are not reused), `shocks`, `volatility_effects`, `key_parameters`;
- `parameter_families()`: every prior family and the support its values must have;
- `build()`: the PyMC graph, kept as `self.model`; it also sets `self.log_background`, the
  graph's log mean structure (intercept, presence, covariates, event effects) over the
  fitted bins, which the parity test compares with the simulator's;
- `pointwise_log_likelihood(posterior)`: log p(observation | draw), in numpy;
- `simulator(posterior)`: the forward simulator (a `ScenarioSimulator`);
- `target_predictives(...)`: the predictive distribution of backtest targets;
- `describe(idata)`: the family's own sentences for the report.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.effects import KindDesign, Segments, kind_designs, segments_for
from forecast.core.priors import Priors, resolve_priors
from forecast.core.scaling import Scaling
from forecast.data.dataset import Dataset
from forecast.scenarios.toolkit import ScenarioSimulator

if TYPE_CHECKING:   # PyMC and ArviZ load only when a family builds, fits or summarises
    import arviz as az
    import pymc as pm

    from forecast.core.predictive import Predictive


class Family(ABC):
    """A model family: configuration in `__init__`, graph in `build`, sampling in `fit`."""

    name: ClassVar[str]
    revision: ClassVar[int]
    # scenario shocks this family can act on: parameter -> what it does
    shocks: ClassVar[Mapping[str, str]]
    # whether event effects may act on a latent volatility
    volatility_effects: ClassVar[bool] = False
    # posterior variables the report shows (prior vs posterior, summary table)
    key_parameters: ClassVar[tuple[str, ...]] = ()
    # a note printed beside this family's PSIS-LOO warnings
    loo_note: ClassVar[str] = ""
    # whether `forecast compare --refit-high-k` can refit this family for exact LOO
    supports_exact_loo: ClassVar[bool] = False
    # the data's counting definitions other than the reference get reporting-ratio priors
    uses_reporting_ratios: ClassVar[bool] = False
    # why `observation_predictives` gives None for a row (checks.csv and the report say it)
    unpredicted_reason: ClassVar[str] = "this model has no predictive for this row"
    # sampler-internal posterior variables no reader needs (e.g. raw non-centred innovations
    # behind a latent deterministic), left out of run folders' posterior.nc
    internal_variables: ClassVar[tuple[str, ...]] = ()
    # whether the family simulates each region of the data (per-region scenario keys may act)
    regional: ClassVar[bool] = False

    def __init__(self, dataset: Dataset, priors_file: str | Path | None = None) -> None:
        # a model of the total leaves out rows that count only regions outside the total
        self.rows_outside_total: list[str] = []
        if not self.regional:
            dataset, self.rows_outside_total = dataset.for_total()
        self.dataset = dataset
        self.priors_file = Path(priors_file) if priors_file else None
        self.kinds: list[KindDesign] = kind_designs(dataset.events, dataset.axis)
        # the bins cut at the events' days: the rate is flat inside each segment
        self.segments: Segments = segments_for(dataset.events, dataset.axis)
        families = self.parameter_families()
        members: dict[str, list[str]] = {"covariate": list(dataset.covariates.columns)}
        if self.uses_reporting_ratios:
            members["reporting_ratio"] = dataset.definitions[1:]
        self.priors: Priors = resolve_priors(families, self.default_priors_files(), self.priors_file,
                                             members=members)
        scaling = Scaling.of(dataset)
        self.cov_mean, self.cov_sd, self.presence_ref = scaling.cov_mean, scaling.cov_sd, scaling.presence_ref
        self.model: pm.Model | None = None
        self.log_background: Any = None

    @classmethod
    def default_priors_file(cls) -> Path:
        """The family's `priors.toml`, shipped inside the package (works from a wheel)."""
        package = cls.__module__.rsplit(".", 1)[0]
        return Path(str(resources.files(package).joinpath("priors.toml")))

    @classmethod
    def default_priors_files(cls) -> tuple[Path, ...]:
        """The default priors files, read in order (a family extending another adds its own)."""
        return (cls.default_priors_file(),)

    @classmethod
    @abstractmethod
    def parameter_families(cls) -> dict[str, str]:
        """Every prior family of the model, with its support ('real', 'positive', 'unit')."""

    @abstractmethod
    def build(self) -> pm.Model:
        """The PyMC graph (kept as `self.model`; sets `self.log_background`)."""

    def fit(self, **kwargs: Any) -> az.InferenceData:
        """Sample the posterior (see `sample_posterior` for the settings)."""
        from forecast.core.sampling import sample_posterior

        return sample_posterior(self.model or self.build(), log_likelihood=self.pointwise_log_likelihood,
                                **kwargs)

    @abstractmethod
    def pointwise_log_likelihood(self, posterior: xr.Dataset) -> xr.DataArray:
        """log p(observation i | draw) for every draw and fitted observation (chain, draw, observation)."""

    @abstractmethod
    def simulator(self, posterior: xr.Dataset | None) -> ScenarioSimulator:
        """The forward simulator; `posterior=None` gives one that only checks scenarios."""

    @abstractmethod
    def target_predictives(self, posterior: xr.Dataset, dataset: Dataset, origin: int, horizon: int,
                           rows: pd.DataFrame, seed: int) -> list[Predictive | None]:
        """Per backtest target row, its predictive distribution (None: this family cannot score it)."""

    def observation_predictives(self, posterior: xr.Dataset, rows: pd.DataFrame) -> list[Predictive | None]:
        """Per observation row of the data (fitted or check), its posterior predictive distribution
        (None where this family cannot predict it, e.g. a counting definition without a fitted ratio)."""
        return [None] * len(rows)

    def describe(self, idata: az.InferenceData) -> list[str]:
        """Sentences (HTML list items) on what this family's own parameters say."""
        return []

    def exact_loo_refitter(self, fit_one: Callable[[Dataset], az.InferenceData],
                           idata: az.InferenceData) -> az.SamplingWrapper:
        """An ArviZ sampling wrapper for exact leave-one-out refits (if `supports_exact_loo`)."""
        raise NotImplementedError(f"{self.name} does not support exact LOO refits")

    def history_log_background(self, posterior: xr.Dataset) -> np.ndarray:
        """(draws, bins) log mean structure over the fitted bins, computed by the simulator's numpy."""
        return self.simulator(posterior).history_log_background(self.first_fitted_bin())

    def observation_weights(self, rows: pd.DataFrame | None = None) -> np.ndarray:
        """(rows, segments) share of each segment's days inside each observation's span."""
        rows = self.dataset.fitted if rows is None else rows
        return self.segments.weights(rows["start"], rows["end"])

    def segment_rates(self, posterior: xr.Dataset) -> xr.DataArray:
        """Draws of the rate per segment (the bins' rates when no event falls inside a bin)."""
        return posterior["segment_rate"] if "segment_rate" in posterior else posterior["rate"]

    def first_fitted_bin(self) -> int:
        """The first bin of the data that the graph's rate covers."""
        return 0
