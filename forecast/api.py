"""The public Python API for notebooks: load, fit, simulate, summarise, plot, report, backtest.

Each step returns a typed result with `summary()` (a tidy DataFrame) and `plot()` (a
matplotlib Figure computed from that result, never from the model):

    import forecast as fc

    data = fc.load_dataset()
    fit = fc.fit(data)                          # reuses a cached fit with the same inputs
    fit.summary()                               # key parameters: mean, sd, HDI, r-hat, ESS
    forecast = fc.simulate(fit, fc.load_scenarios(["scenarios/status_quo.toml",
                                                   "scenarios/exit_iraq.toml"]))
    forecast.contrasts()                        # scenario minus baseline, paired draw by draw
    forecast.plot("exit_iraq")                 # fan chart
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import arviz as az
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from forecast import runs
from forecast.config import DEFAULT_SEED, DataSource, FitSettings, RunConfig
from forecast.core.scaling import coefficient_summary
from forecast.data.dataset import Dataset
from forecast.data.summary import describe as _describe
from forecast.errors import InputError
from forecast.evaluation.backtest import ALL_MODELS, choose_origins, run_backtest, summarise
from forecast.evaluation.output import pit_figure
from forecast.families import DEFAULT_FAMILY, FAMILIES, Family
from forecast.fitting import fit as _fit
from forecast.fitting import verdict
from forecast.reporting import plots
from forecast.reporting.scenario_report import write_report as _write_report
from forecast.scenarios import summaries
from forecast.scenarios.spec import Scenario
from forecast.scenarios.spec import load_scenarios as _load_scenarios
from forecast.simulation import simulate_scenarios
from forecast.workflows import scenario_records, write_checks

__all__ = [
    "FAMILIES", "Backtest", "DataSource", "Fit", "FitSettings", "Forecast", "RunConfig", "backtest",
    "describe", "fit", "load_dataset", "load_scenarios", "simulate", "write_report",
]


def load_dataset(data: str = "bundled", events: str | None = None, layout: str = "counts",
                 **export_options: Any) -> Dataset:
    """The bundled dataset, a counts/observations CSV, or an ACLED/UCDP export (see DataSource)."""
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in export_options.items()}
    return DataSource(data=data, events=events, layout=layout, **options).load()


def describe(dataset: Dataset) -> str:
    """A plain-text summary: bins, counts per year, gaps, event kinds, counting definitions."""
    return _describe(dataset)


def load_scenarios(paths: Sequence[str | Path]) -> list[Scenario]:
    """Scenario files, validated (strict schema, baselines among the files given)."""
    return _load_scenarios(list(paths))


@dataclass
class Fit:
    """A fitted (or cached) posterior of one family, with its diagnostics."""

    family: Family
    idata: az.InferenceData
    manifest: dict[str, Any]
    reused: bool

    @property
    def passed(self) -> bool:
        """Whether the fit passed the diagnostics gate (r-hat, ESS, divergences, E-BFMI)."""
        return bool(self.manifest["diagnostics"]["passed"])

    def summary(self) -> pd.DataFrame:
        """Key parameters: mean, sd, 94% HDI, MCSE, r-hat and ESS (one row per parameter).

        Covariate coefficients come twice: `beta[name]` per standard deviation of the covariate
        (as fitted) and `beta_per_unit[name]` per unit of it, in the data's own units.
        """
        names = [n for n in (*self.family.key_parameters, "intercept") if n in self.idata.posterior]
        table = az.summary(self.idata, var_names=names, kind="all")
        coefficients = coefficient_summary(self.idata, list(self.family.dataset.covariates.columns),
                                           self.family.cov_sd)
        return pd.concat([table, coefficients]).rename_axis("parameter").reset_index()

    def plot(self) -> Figure:
        """Prior against posterior of the key parameters."""
        names = [n for n in self.family.key_parameters if n in self.idata.posterior]
        if "prior" not in self.idata.groups():
            raise InputError("fit", "this posterior holds no prior draws to compare with")
        return plots.prior_posterior(self.idata.prior, self.idata.posterior, names)


def fit(dataset: Dataset, model: str = DEFAULT_FAMILY, priors: str | Path | None = None,
        settings: FitSettings | None = None, cache_root: str | Path | None = "runs/.cache",
        progress: bool = False) -> Fit:
    """Fit a family to the data, or reuse the cached fit with the same inputs and settings."""
    result = _fit(dataset, model_name=model, priors_file=priors, settings=settings or FitSettings(),
                  cache_root=Path(cache_root) if cache_root is not None else None, progress=progress)
    return Fit(result.model, result.idata, result.manifest, result.reused)


@dataclass
class Forecast:
    """Scenario draws (scenario x draw x month) of one fit, paired across scenarios."""

    fit: Fit
    scenarios: list[Scenario]
    draws: xr.Dataset
    seed: int

    def summary(self) -> pd.DataFrame:
        """Horizon totals per scenario: median, 50/80/95% intervals, their Monte Carlo errors."""
        return summaries.total_summary(self.draws)

    def monthly(self) -> pd.DataFrame:
        """Per scenario and month: median, intervals, P(at least one attack)."""
        return summaries.monthly_summary(self.draws)

    def contrasts(self) -> pd.DataFrame:
        """Each scenario against its baseline: differences and ratios of totals, P(fewer)."""
        return summaries.contrasts(self.draws)

    def exceedance(self) -> pd.DataFrame:
        """P(horizon total > k) per scenario."""
        return summaries.exceedance(self.draws)

    def plot(self, scenario: str | None = None) -> Figure:
        """Fan chart: the fitted history and one scenario's forecast (default: the first)."""
        names = [str(s) for s in self.draws["scenario"].values]
        chosen = scenario or names[0]
        if chosen not in names:
            raise InputError("plot", f"no scenario {chosen!r}; this forecast has {', '.join(names)}")
        return plots.fan_chart(self.fit.idata.posterior["rate"], self.fit.family.dataset.fitted,
                               self.draws, chosen)

    def plot_contrasts(self) -> Figure:
        """Contrasts against the baselines with their intervals."""
        return plots.contrast_chart(self.contrasts())


def simulate(fitted: Fit, scenarios: Sequence[Scenario], seed: int = DEFAULT_SEED) -> Forecast:
    """Every scenario from the same posterior draws, with common random numbers."""
    draws = simulate_scenarios(fitted.family, fitted.idata.posterior, list(scenarios), seed)
    return Forecast(fitted, list(scenarios), draws, seed)


def write_report(forecast: Forecast, out: str | Path) -> Path:
    """report.html, summary.md, figures, tables and checks.csv into a new folder (never over an old one)."""
    target = runs.new_run_path(out)
    manifest = {**forecast.fit.manifest, "kind": "run", "verdict": verdict(forecast.fit.manifest, True),
                "scenario_seed": forecast.seed, "scenarios": scenario_records(forecast.scenarios)}
    family = forecast.fit.family
    with runs.staged_run(target) as stage:
        tmp = stage.dir
        manifest["tables"] = summaries.write_tables(forecast.draws, tmp)
        checks = write_checks(tmp, family, forecast.fit.idata.posterior)
        _write_report(tmp, forecast.fit.idata, forecast.draws, manifest, family.dataset, family, checks)
        runs.write_json(tmp / runs.MANIFEST, manifest)
    return stage.final


@dataclass
class Backtest:
    """Scores of every contender at every origin and target (one row per model and target)."""

    scores: pd.DataFrame
    origins: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Mean scores by model and step over the targets every model scored."""
        return summarise(self.scores)

    def plot(self) -> Figure:
        """Randomised PIT histograms of the exact-count targets, one panel per model."""
        fig = pit_figure(self.scores)
        if fig is None:
            raise InputError("backtest", "no exact-count target was scored: no PIT values to plot")
        return fig


def backtest(dataset: Dataset, origins: int = 6, horizon: int = 6, models: Sequence[str] = ALL_MODELS,
             settings: FitSettings | None = None, seed: int = DEFAULT_SEED, first: str | None = None,
             every: int = 1, executor: str = "serial", max_workers: int = 2) -> Backtest:
    """Rolling-origin backtest: fit on the data before each origin, score what came after."""
    settings = settings or FitSettings(draws=300, tune=300, chains=2)
    chosen = choose_origins(dataset, origins, horizon, first, every)
    frame = run_backtest(dataset, chosen, horizon, tuple(models), settings, seed, executor=executor,
                         max_workers=max_workers)
    return Backtest(frame, [dataset.axis.labels[o] for o in chosen])
