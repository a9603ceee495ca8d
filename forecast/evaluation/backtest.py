"""Rolling-origin backtests: fit on the data before each origin, forecast H bins, score.

For each origin the default model is fitted on `truncate(dataset, origin)` (no fit cache:
every worker samples afresh) and the status quo is simulated forward with
`LatentARSimulator`, with two deliberate choices:

- the presence (and any covariate) path over the horizon is the OBSERVED one: covariates are
  treated as known ex post, so the backtest scores the attack process given presence, not the
  forecast of presence;
- no future events are assumed (events before the origin carry on as the model says).

A target's predictive is then the mixture over draws of Poisson(pi_d * sum_t w_t lambda_t)
(pi_d = exp(log_ratio) of the target's definition, 1 for the reference). Baselines are scored
on the same targets. Targets of a definition with no fitted row before the origin are skipped
(no model has a reporting ratio for them).

Seeds: origin o of a run with seed s uses SeedSequence([s, o]) for the fit, the simulation and
the randomized parts of the scores, so results do not depend on the executor, on the number
of workers or on which other origins are run.
"""

from __future__ import annotations

import math
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.config import FitSettings
from forecast.core.predictive import SCORE_COLUMNS, applicable, score
from forecast.data.dataset import Dataset
from forecast.errors import ForecastError, InputError
from forecast.evaluation import baselines, mixture
from forecast.evaluation.truncate import targets, truncate
from forecast.families import DEFAULT_FAMILY, FAMILIES
from forecast.fitting import fit
from forecast.quiet import is_quiet, worker_initializer

ALL_MODELS = (DEFAULT_FAMILY, *baselines.BASELINES)          # the default set
KNOWN_MODELS = (*FAMILIES, *baselines.BASELINES)
MIN_HISTORY_ROWS = 3


@dataclass(frozen=True)
class OriginTask:
    dataset: Dataset
    origin: int
    horizon: int
    models: tuple[str, ...]
    fit: dict[str, Any] = field(default_factory=dict)   # FitSettings fields (seed is replaced)
    run_seed: int = 20240128
    priors_file: str | None = None
    ensemble: tuple[str, str] | None = None            # (model, baseline) of the LFO ensemble


def origin_seed(run_seed: int, origin: int) -> int:
    return int(np.random.SeedSequence([run_seed, origin]).generate_state(1)[0])


def _rng(seed: int, model: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(model.encode())]))


def target_kind(row) -> str:
    """exact_bin, exact_span, interval (lo < hi finite) or bound ("at least lo", hi infinite)."""
    if row.lo != row.hi:
        return "bound" if math.isinf(row.hi) else "interval"
    return "exact_bin" if row.first_bin == row.last_bin and abs(row.bins - 1) < 1e-9 else "exact_span"


class ScoreError(ForecastError):
    """A score that should exist is NaN or infinite: a bug or a broken forecast, never dropped."""


def check_scores(rec: dict[str, Any]) -> None:
    """Raise ScoreError if a score that applies to this target is not finite."""
    bad = [c for c in applicable(float(rec["lo"]), float(rec["hi"]))
           if not np.isfinite(float(rec[c]))]
    if bad:
        raise ScoreError(f"model {rec['model']}, origin {rec['origin']}, target {rec['target']} "
                         f"(lo {rec['lo']}, hi {rec['hi']}): non-finite "
                         + ", ".join(f"{c} = {rec[c]}" for c in bad))


def score_origin(task: OriginTask) -> list[dict[str, Any]]:
    """Fit every model on the data before the origin and score its targets (one worker job)."""
    ds, origin = task.dataset, task.origin
    seed = origin_seed(task.run_seed, origin)
    past = truncate(ds, origin)
    rows = targets(ds, origin, task.horizon)
    known = set(past.fitted["definition"])
    rows = rows[rows["definition"].isin(known)].reset_index(drop=True)
    if rows.empty:
        return []
    base_params = baselines.fit_baselines(past)
    predictives: dict[str, list] = {}
    notes: dict[str, str] = {}
    fit_seconds: dict[str, float] = {}
    for model in task.models:
        if model in FAMILIES:
            started = time.perf_counter()
            try:
                settings = FitSettings(**{**task.fit, "seed": seed})
                result = fit(past, model_name=model, priors_file=task.priors_file, settings=settings,
                             cache_root=None, progress=False)
                predictives[model] = result.model.target_predictives(
                    result.idata.posterior, ds, origin, task.horizon, rows, seed)
                diag = result.manifest["diagnostics"]
                notes[model] = "" if diag["passed"] else "unconverged: " + "; ".join(diag["failures"])
            except ForecastError as exc:
                predictives[model] = [None] * len(rows)
                notes[model] = f"not fitted: {exc}"
            fit_seconds[model] = time.perf_counter() - started
        else:
            predictives[model] = [baselines.predictive(model, base_params[d], b)
                                  for d, b in zip(rows["definition"], rows["bins"])]
            notes[model] = ""
    # one common target set per origin: a target some model cannot forecast (a Hawkes family
    # on a span, a model that could not be fitted) is scored by none, and its rows say why
    missing = [[m for m in task.models if predictives[m][i] is None] for i in range(len(rows))]
    out = []
    for model in task.models:
        rng = _rng(seed, model)
        for i, (row, dist) in enumerate(zip(rows.itertuples(index=False), predictives[model])):
            rec = _record(model, ds, origin, row, not missing[i])
            note = notes[model]
            if missing[i]:
                rec.update({k: math.nan for k in SCORE_COLUMNS})
                note = "; ".join(filter(None, [note, "not scored: no forecast of this target from "
                                               + ", ".join(missing[i])]))
            else:
                rec.update(score(dist, float(row.lo), float(row.hi), rng))
                check_scores(rec)
            rec["note"] = note
            rec["fit_seconds"] = round(fit_seconds[model], 1) if model in fit_seconds else math.nan
            out.append(rec)
    if task.ensemble is not None:
        out += _ensemble_records(task, rows, predictives, notes, missing, seed)
    return out


def _published(row) -> str:
    """A target's publication date (a row without one counts as published at its span's end)."""
    date = getattr(row, "published", pd.NaT)
    return pd.Timestamp(row.end if pd.isna(date) else date).date().isoformat()


def _record(model: str, ds: Dataset, origin: int, row, scored: bool) -> dict[str, Any]:
    return {"model": model, "origin": ds.axis.labels[origin], "origin_bin": origin,
            "step": int(row.step), "target": row.id, "definition": row.definition,
            "kind": target_kind(row), "start": pd.Timestamp(row.start).date().isoformat(),
            "end": pd.Timestamp(row.end).date().isoformat(), "published": _published(row),
            "bins": round(float(row.bins), 4), "lo": int(row.lo), "hi": float(row.hi),
            "count": int(row.count), "scored": scored}


def _ensemble_records(task: OriginTask, rows: pd.DataFrame, predictives: dict[str, list],
                      notes: dict[str, str], missing: list[list[str]], seed: int) -> list[dict[str, Any]]:
    """The ensemble's rows with what its scores need (`_mix`); the main process scores them once
    the weights, which depend on earlier origins, are known."""
    first, second = task.ensemble
    rng = _rng(seed, mixture.NAME)
    out = []
    for i, row in enumerate(rows.itertuples(index=False)):
        rec = _record(mixture.NAME, task.dataset, task.origin, row, not missing[i])
        rec.update({k: math.nan for k in SCORE_COLUMNS})
        note = "; ".join(f"{m}: {notes[m]}" for m in (first, second) if notes[m])
        if missing[i]:
            note = "; ".join(filter(None, [note, "not scored: no forecast of this target from "
                                           + ", ".join(missing[i])]))
            rec["_mix"] = None
        else:
            rec["_mix"] = mixture.ingredients(predictives[first][i], predictives[second][i],
                                              float(row.lo), float(row.hi), rng)
        rec["note"] = note
        rec["fit_seconds"] = math.nan
        out.append(rec)
    return out


def choose_origins(dataset: Dataset, n: int, horizon: int, first: str | None = None,
                   every: int = 1) -> list[int]:
    """Origin bins: from `first` every `every` bins, else the last n whose horizon has data."""
    if n < 1 or horizon < 1 or every < 1:
        raise InputError("command line", "--origins, --horizon and --every must be at least 1")
    axis = dataset.axis
    fitted = dataset.fitted
    last_data = min(axis.index_of(fitted["end"].max()), axis.n - 1)
    if first is not None:
        start = axis.index_of(pd.Timestamp(first))
        origins = [start + k * every for k in range(n)]
    else:
        last_origin = last_data - horizon + 1
        origins = [last_origin - k * every for k in range(n)][::-1]
    origins = [o for o in origins if 1 <= o <= last_data]
    first_end = axis.index_of(fitted["end"].min())
    origins = [o for o in origins
               if (fitted["end"] < axis.starts[o]).sum() >= MIN_HISTORY_ROWS and o > first_end]
    if not origins:
        raise InputError("command line", f"no origin has at least {MIN_HISTORY_ROWS} fitted rows "
                         f"before it and data after it (data {axis.labels[0]}..{axis.labels[last_data]})")
    return origins


def run_backtest(dataset: Dataset, origins: list[int], horizon: int, models: tuple[str, ...] = ALL_MODELS,
                 fit_settings: Any = None, seed: int = 20240128, executor: str = "local",
                 max_workers: int = 2, priors_file: str | None = None,
                 ensemble: tuple[str, str] | None = None) -> pd.DataFrame:
    """Scores per (model, origin, target). `executor`: 'serial', 'local' (processes) or a Dask
    scheduler address (or a `distributed.Client`). `ensemble` = (model, baseline) adds the
    contender `lfo_ensemble`, their mixture with leave-future-out stacking weights (`mixture`)."""
    unknown = [m for m in models if m not in KNOWN_MODELS]
    if unknown:
        raise InputError("command line", f"unknown model(s) {', '.join(unknown)}; available: "
                         f"{', '.join(KNOWN_MODELS)}")
    if ensemble is not None:
        ensemble = tuple(ensemble)
        if len(ensemble) != 2 or ensemble[0] == ensemble[1] or not set(ensemble) <= set(models):
            raise InputError("command line", f"--ensemble needs two different contenders that are "
                             f"also in --models ({', '.join(models)}), e.g. latent_ar,negbin; got "
                             f"{','.join(ensemble)}")
    fit = {} if fit_settings is None else {k: v for k, v in asdict(fit_settings).items() if k != "seed"}
    # the data travel with each task: without their file names a worker's fit does not reread
    # and hash the source files (for a manifest no one writes here), which a worker in another
    # directory or on another machine does not have. A priors file is read on the worker, so
    # it is named absolutely (the same path on a shared file system).
    shipped = replace(dataset, files=())
    priors_file = None if priors_file is None else str(Path(priors_file).resolve())
    tasks = [OriginTask(shipped, o, horizon, tuple(models), fit, seed, priors_file, ensemble)
             for o in origins]
    if executor == "serial":
        results = [score_origin(t) for t in tasks]
    elif executor == "local":
        with ProcessPoolExecutor(max_workers=max_workers, mp_context=get_context("spawn"),
                                 initializer=worker_initializer, initargs=(is_quiet(),)) as pool:
            results = list(pool.map(score_origin, tasks))
    else:
        results = _run_dask(tasks, executor)
    frame = pd.DataFrame([r for chunk in results for r in chunk])
    if frame.empty:
        return frame
    if ensemble is not None:
        days = {o: pd.Timestamp(dataset.axis.starts[o]) for o in origins}
        frame = mixture.add_ensemble(frame, ensemble, mixture.origin_weights(frame, ensemble, days))
        for rec in frame[(frame["model"] == mixture.NAME) & frame["scored"]].to_dict("records"):
            check_scores(rec)
    order = {m: i for i, m in enumerate((*models, mixture.NAME))}
    frame["_m"] = frame["model"].map(order)
    return frame.sort_values(["origin_bin", "_m", "step", "target"]).drop(columns="_m").reset_index(drop=True)


def _run_dask(tasks: list[OriginTask], scheduler) -> list:
    from distributed import Client

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(score_origin, tasks, pure=False)
        return client.gather(futures)
    finally:
        if client is not scheduler:
            client.close()


def check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The scored rows of a backtest frame, after checking them: every applicable score finite
    (else ScoreError naming model, origin and target) and, per origin, every model scored on the
    same targets (else ScoreError)."""
    scored = frame[frame["scored"].astype(bool)] if "scored" in frame else frame
    for rec in scored.to_dict("records"):
        check_scores(rec)
    for origin, g in scored.groupby("origin", sort=False):
        sets = {m: frozenset(t["target"]) for m, t in g.groupby("model", sort=False)}
        common = frozenset.intersection(*sets.values())
        uneven = {m: sorted(t - common) for m, t in sets.items() if t != common}
        if uneven or set(sets) != set(frame["model"]):
            absent = sorted(set(frame["model"]) - set(sets))
            raise ScoreError(f"origin {origin}: models were scored on different targets "
                             f"(extra targets {uneven}; no scored target from {absent})")
    return scored


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean scores by model and step over one common target set per origin.

    `n_targets` is the number of targets in a cell; each score has its own count where it is
    over a subset: CRPS and PIT over exact single-bin counts (`n_exact_bins`), coverage over
    exact counts, single bins and spans (`n_exact`), the probability of the reported interval
    over interval and bound targets (`n_interval`), Brier over targets whose bounds settle "at
    least one attack" (`n_brier`). The log score is over every target; its median is shown
    beside the mean because one target given probability ~0 (floored at 1e-300, a score of
    690.8) dominates a mean over few targets. A non-finite score raises ScoreError.
    """
    scored = check_frame(frame)
    rows = []
    for (model, step), g in scored.groupby(["model", "step"], sort=False):
        exact_bins = g[g["kind"] == "exact_bin"]
        exact = g[g["kind"].isin(["exact_bin", "exact_span"])]
        interval = g[g["kind"].isin(["interval", "bound"])]
        brier = g[(g["lo"] >= 1) | (g["hi"] == 0)]      # bounds that settle y >= 1
        rows.append({"model": model, "step": step, "n_targets": len(g),
                     "n_exact_bins": len(exact_bins), "n_exact": len(exact),
                     "n_interval": len(interval), "n_brier": len(brier),
                     "crps": exact_bins["crps"].mean(), "log_score": g["log_score"].mean(),
                     "log_score_median": g["log_score"].median(),
                     "cover50": exact["cover50"].mean(), "cover80": exact["cover80"].mean(),
                     "cover95": exact["cover95"].mean(), "p_interval": interval["p_interval"].mean(),
                     "brier_any": brier["brier_any"].mean()})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    order = {m: i for i, m in enumerate(dict.fromkeys(frame["model"]))}
    return out.sort_values(["step", "model"], key=lambda s: s.map(order) if s.name == "model" else s
                           ).reset_index(drop=True)
