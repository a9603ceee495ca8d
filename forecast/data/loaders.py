"""Build a Dataset from the bundled files or from user files.

User inputs:
- a counts CSV: `date,count[,series][,published][,presence][,other numeric covariates]`,
  dates as YYYY-MM (monthly) or YYYY-MM-DD (weekly when rows are 7 days apart, else the
  date names its month);
- an observations CSV in the bundled layout (`start,end,count,bound,lo,hi,definition,
  use[,id,region,published,...]`) for totals, bounds and approximate figures;
- an events CSV `date,kind[,name][,end_date]`.
`published` is the date a figure became public (default: the end of its row's span); it
is kept in `Dataset.observations` for real-time evaluation and never enters the fit.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.dataset import (
    BOUNDS,
    EVENT_KINDS,
    MAX_INTERVAL_WIDTH,
    OBSERVATION_COLUMNS,
    USES,
    Dataset,
    observations_from_bins,
    validate_observations,
)
from forecast.data.readers import (
    check_text,
    parse_count,
    parse_date,
    parse_number,
    read_csv,
)
from forecast.errors import InputError, did_you_mean
from forecast.timeaxis import TimeAxis, month_axis

BUNDLED_NAME = "bundled"
DEFAULT_DEFINITION = "counts"


def bundled_dir() -> Path:
    return Path(str(resources.files("forecast.data") / "files"))


def load_events(path: str | Path) -> pd.DataFrame:
    """Events CSV `date,kind[,name][,end_date]` (extra descriptive columns are kept)."""
    path = Path(path)
    frame = read_csv(path, required=("date", "kind"), allow_extra=True)
    rows = []
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        date = parse_date(rec["date"], path, i, "date")
        end = rec.get("end_date", "").strip()
        end_date = parse_date(end, path, i, "end_date") if end else pd.NaT
        if end and end_date < date:
            raise InputError(path, f"end_date {end} is before date {rec['date']}", where=f"row {i}")
        kind = rec["kind"].strip()
        if kind not in EVENT_KINDS:
            raise InputError(path, f"unknown event kind {kind!r}{did_you_mean(kind, EVENT_KINDS)}; "
                             f"expected one of {', '.join(EVENT_KINDS)}", where=f"row {i}, column 'kind'")
        name = check_text(rec.get("name", "").strip() or kind, path, i, "name", max_len=80)
        rows.append({"date": date, "end_date": end_date, "kind": kind, "name": name,
                     "summary": rec.get("summary", ""), "source": rec.get("source", "")})
    return pd.DataFrame(rows)


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(columns=["date", "end_date", "kind", "name", "summary", "source"])


def _published(text: str, end: pd.Timestamp, path: Path, row: int) -> pd.Timestamp:
    """A row's publication date: the `published` cell, or the last day of its span."""
    text = text.strip()
    if not text:
        return end
    date = parse_date(text, path, row, "published")
    if len(text) == 7:  # YYYY-MM: some day in that month, so its last day
        date = date + pd.offsets.MonthEnd(0)
    if date < end:
        # a count cannot be public before the last day it counts has passed
        raise InputError(path, f"published {text} is before the end of the row's span "
                         f"({end.date()})", where=f"row {row}, column 'published'")
    return date


def load_observations(path: str | Path) -> pd.DataFrame:
    """Observation rows in the bundled layout, validated row by row and across rows."""
    path = Path(path)
    frame = read_csv(path, required=("start", "end", "count", "bound", "definition"),
                     allow_extra=True)
    rows = []
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        start = parse_date(rec["start"], path, i, "start")
        end_text = rec["end"].strip()
        end = parse_date(end_text, path, i, "end")
        if len(end_text) == 7:  # YYYY-MM: through the end of that month
            end = end + pd.offsets.MonthEnd(0)
        if end < start:
            raise InputError(path, f"end {rec['end']} is before start {rec['start']}", where=f"row {i}")
        count = parse_count(rec["count"], path, i, "count")
        bound = rec["bound"].strip()
        if bound not in BOUNDS:
            raise InputError(path, f"bound {bound!r}{did_you_mean(bound, BOUNDS)}; expected one of "
                             f"{', '.join(BOUNDS)}", where=f"row {i}, column 'bound'")
        lo_text, hi_text = rec.get("lo", "").strip(), rec.get("hi", "").strip()
        if math.isnan(count) and not lo_text:
            raise InputError(path, "count is empty; an unknown count is simply left out",
                             where=f"row {i}, column 'count'")
        lo = parse_count(lo_text, path, i, "lo") if lo_text else count
        if bound == "exact":
            hi = parse_count(hi_text, path, i, "hi") if hi_text else count
            if lo != hi:
                raise InputError(path, "an exact row needs lo = hi = count", where=f"row {i}")
        elif bound == "at_least":
            if hi_text:
                raise InputError(path, "an at_least row has no upper bound: leave 'hi' empty",
                                 where=f"row {i}, column 'hi'")
            hi = math.inf
        else:
            if not (lo_text and hi_text):
                raise InputError(path, "an approx row needs its interval in 'lo' and 'hi'",
                                 where=f"row {i}")
            hi = parse_count(hi_text, path, i, "hi")
            if hi < lo:
                raise InputError(path, f"hi {hi:g} is below lo {lo:g}", where=f"row {i}")
            if hi - lo > MAX_INTERVAL_WIDTH:
                raise InputError(path, f"interval {lo:g}..{hi:g} is wider than {MAX_INTERVAL_WIDTH}",
                                 where=f"row {i}")
            if not math.isnan(count) and not lo <= count <= hi:
                raise InputError(path, f"count {count:g} is outside its interval {lo:g}..{hi:g}",
                                 where=f"row {i}")
        use = rec.get("use", "fit").strip() or "fit"
        if use not in USES:
            raise InputError(path, f"use {use!r}{did_you_mean(use, USES)}; expected fit or check",
                             where=f"row {i}, column 'use'")
        definition = check_text(rec["definition"].strip(), path, i, "definition", max_len=80)
        if not definition:
            raise InputError(path, "definition is empty", where=f"row {i}, column 'definition'")
        published = _published(rec.get("published", ""), end, path, i)
        rows.append({
            "id": rec.get("id", "").strip() or f"row{i}", "start": start, "end": end,
            "count": int(lo if math.isnan(count) else count), "bound": bound, "lo": int(lo),
            "hi": float(hi), "definition": definition, "region": rec.get("region", ""),
            "use": use, "source": rec.get("source", ""), "reason": rec.get("reason", ""),
            "note": rec.get("note", ""), "origin": rec.get("origin", ""),
            "published": published,
        })
    obs = pd.DataFrame(rows)
    duplicates = obs["id"][obs["id"].duplicated()]
    if not duplicates.empty:
        raise InputError(path, f"duplicate id {duplicates.iloc[0]!r}", where="column 'id'")
    validate_observations(obs, str(path))
    return obs


def load_presence_table(path: Path) -> pd.DataFrame:
    frame = read_csv(path, required=("month", "presence"), allow_extra=True)
    months = [parse_date(v, path, i, "month") for i, v in enumerate(frame["month"], start=2)]
    values = [parse_number(v, path, i, "presence", minimum=0.0)
              for i, v in enumerate(frame["presence"], start=2)]
    out = pd.DataFrame({"month": months, "presence": values,
                        "basis": frame.get("basis", pd.Series([""] * len(frame)))})
    return out


def load_bundled(events: str | Path | None = None) -> Dataset:
    """The shipped dataset: fact-pack observations, troop presence and events."""
    folder = bundled_dir()
    obs = load_observations(folder / "observations.csv")
    presence = load_presence_table(folder / "presence.csv")
    axis = month_axis(presence["month"].min(), presence["month"].max())
    if len(presence) != axis.n:
        raise InputError(folder / "presence.csv", "months are not consecutive")
    event_file = Path(events) if events else folder / "events.csv"
    files = (folder / "observations.csv", folder / "presence.csv", event_file)
    return Dataset(
        name=BUNDLED_NAME, axis=axis, observations=obs, events=load_events(event_file),
        reference="dod_facility_attacks", presence=presence["presence"].to_numpy(float),
        presence_basis=list(presence["basis"]), files=files,
    )


def _infer_axis(dates: list[pd.Timestamp], texts: list[str], path: Path) -> TimeAxis:
    unique = sorted(set(dates))
    all_days = all(len(t.strip()) == 10 for t in texts)
    if all_days and len(unique) >= 2:
        steps = {(b - a).days for a, b in zip(unique, unique[1:])}
        if all(step % 7 == 0 for step in steps):
            n = (unique[-1] - unique[0]).days // 7 + 1
            return TimeAxis("week", unique[0], n)
    return month_axis(min(dates), max(dates))


def _duplicate_message(axis: TimeAxis, texts: pd.Series, first: int, row: int, k: int) -> str:
    a, b = texts.iloc[first - 2].strip(), texts.iloc[row - 2].strip()
    if axis.freq == "month" and len(a) == len(b) == 10 and a != b:
        # day dates read as months because they are not all 7 days apart
        return (f"dates {a} (row {first}) and {b} fall in the same month {axis.labels[k]}: day dates are "
                "read as weeks only when every two are a multiple of 7 days apart, else as months")
    return f"duplicate {axis.freq} {axis.labels[k]} (also on row {first})"


def load_counts(path: str | Path, events: str | Path | None = None) -> Dataset:
    """A plain counts CSV, one row per bin (and per series when a `series` column exists)."""
    path = Path(path)
    frame = read_csv(path, required=("date", "count"), allow_extra=True)
    covariate_cols = [c for c in frame.columns if c not in ("date", "count", "series", "published")]
    for col in covariate_cols:
        check_text(col, path, 1, col, max_len=60)
        if not col.replace("_", "").isalnum():
            raise InputError(path, f"covariate column name {col!r} must be letters, digits and _",
                             where="row 1 (header)")
    dates = [parse_date(v, path, i, "date") for i, v in enumerate(frame["date"], start=2)]
    counts = [parse_count(v, path, i, "count") for i, v in enumerate(frame["count"], start=2)]
    series = (
        [check_text(s.strip() or DEFAULT_DEFINITION, path, i, "series", max_len=80)
         for i, s in enumerate(frame["series"], start=2)]
        if "series" in frame.columns else [DEFAULT_DEFINITION] * len(frame)
    )
    axis = _infer_axis(dates, list(frame["date"]), path)
    if axis.n > 5000:
        raise InputError(path, f"the dates span {axis.n} {axis.freq}s; at most 5000 bins are supported",
                         where="column 'date'")
    index = [axis.index_of(d) for d in dates]
    published = (
        [_published(text, axis.ends[k], path, row) if text.strip() else pd.NaT
         for row, (k, text) in enumerate(zip(index, frame["published"]), start=2)]
        if "published" in frame.columns else [pd.NaT] * len(frame)
    )
    if axis.freq == "week":
        misaligned = [i for i, d in enumerate(dates) if (d - axis.start).days % 7]
        if misaligned:
            raise InputError(path, "weekly dates must be 7 days apart", where=f"row {misaligned[0] + 2}")
    seen: dict[tuple[str, int], int] = {}
    for row, (s, k) in enumerate(zip(series, index), start=2):
        if (s, k) in seen:
            raise InputError(path, _duplicate_message(axis, frame["date"], seen[(s, k)], row, k)
                             + (f" in series {s!r}" if s != DEFAULT_DEFINITION else ""),
                             where=f"row {row}, column 'date'")
        seen[(s, k)] = row
    definitions = list(dict.fromkeys(series))
    values = {d: np.full(axis.n, np.nan) for d in definitions}
    dates_public: dict[str, list[pd.Timestamp]] = {d: [pd.NaT] * axis.n for d in definitions}
    for s, k, c, p in zip(series, index, counts, published):
        values[s][k] = c
        dates_public[s][k] = p
    parts = [observations_from_bins(axis, values[d], d, str(path), dates_public[d]) for d in definitions]
    obs = pd.concat(parts, ignore_index=True)
    if obs.empty:
        raise InputError(path, "every count is empty; nothing to fit", where="column 'count'")
    presence = None
    covariates = pd.DataFrame(index=range(axis.n))
    for col in covariate_cols:
        values = np.full(axis.n, np.nan)
        for row, (k, text) in enumerate(zip(index, frame[col]), start=2):
            if text.strip() == "":
                continue
            value = parse_number(text, path, row, col, minimum=0.0 if col == "presence" else None)
            if not np.isnan(values[k]) and values[k] != value:
                raise InputError(path, f"two different {col} values for {axis.labels[k]}",
                                 where=f"row {row}, column '{col}'")
            values[k] = value
        if np.isnan(values).any():
            missing = axis.labels[int(np.flatnonzero(np.isnan(values))[0])]
            raise InputError(path, f"covariate '{col}' has no value for {missing}; covariates need "
                             "a value in every bin", where=f"column '{col}'")
        if col == "presence":
            if (values <= 0).any():
                first = axis.labels[int(np.flatnonzero(values <= 0)[0])]
                raise InputError(path, f"presence is 0 in {first}: with no US presence there are no "
                                 "targets to count; drop those bins", where="column 'presence'")
            presence = values
        else:
            covariates[col] = values
    event_frame = load_events(events) if events else _empty_events()
    files = (path,) + ((Path(events),) if events else ())
    return Dataset(
        name=path.stem, axis=axis, observations=obs, events=event_frame,
        reference=definitions[0], presence=presence,
        covariates=covariates if covariate_cols and len(covariates.columns) else pd.DataFrame(),
        files=files,
    )


def load_dataset(spec: str | None = None, events: str | Path | None = None) -> Dataset:
    """`spec` is 'bundled' (the default) or a path to a counts or observations CSV."""
    if spec in (None, BUNDLED_NAME):
        return load_bundled(events)
    path = Path(spec)
    if not path.exists():
        raise InputError(path, f"no such file, and not a bundled dataset name (try '{BUNDLED_NAME}')")
    header = read_csv(path, required=(), allow_extra=True).columns
    if {"start", "end", "bound"} <= set(header):
        return _dataset_from_observation_file(path, events)
    return load_counts(path, events)


def _dataset_from_observation_file(path: Path, events: str | Path | None) -> Dataset:
    obs = load_observations(path)
    axis = month_axis(obs["start"].min(), obs["end"].max())
    reference = obs[obs["use"] == "fit"]["definition"].iloc[0] if (obs["use"] == "fit").any() else None
    if reference is None:
        raise InputError(path, "no row has use=fit; nothing to fit", where="column 'use'")
    return Dataset(
        name=path.stem, axis=axis, observations=obs,
        events=load_events(events) if events else _empty_events(), reference=reference,
        files=(path,) + ((Path(events),) if events else ()),
    )


__all__ = ["load_dataset", "load_bundled", "load_counts", "load_events", "load_observations",
           "OBSERVATION_COLUMNS"]
