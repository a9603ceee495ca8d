"""Build a Dataset from the bundled files or from user files.

User inputs:
- a counts CSV: `date,count[,series][,region][,published][,presence][,other numeric covariates]`,
  dates as YYYY-MM (monthly) or YYYY-MM-DD (weekly when rows are 7 days apart, else the
  date names its month). With a `region` column (the long layout `date,region,count,presence`)
  there is one row per date and region, and `presence` is that region's; a region cell may
  also name several regions ('iraq+syria') for a count of them together, without presence;
- a presence file in the wide layout (`month,<region>,<region>,...`, forecast/data/presence.py)
  beside a counts or observations CSV;
- an observations CSV in the bundled layout (`start,end,count,bound,lo,hi,definition,
  use[,id,region,published,...]`) for totals, bounds and approximate figures;
- an events CSV `date,kind[,name][,end_date]`.
`published` is the date a figure became public (default: the end of its row's span); it
is kept in `Dataset.observations` for real-time evaluation and never enters the fit.
"""

from __future__ import annotations

import math
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.dataset import (
    ACT_KINDS,
    BOUNDS,
    EVENT_KINDS,
    MAX_INTERVAL_WIDTH,
    OBSERVATION_COLUMNS,
    USES,
    Dataset,
    check_counts_where_present,
    observations_from_bins,
    validate_observations,
)
from forecast.data.presence import RegionalPresence, load_presence_wide
from forecast.data.readers import (
    check_text,
    parse_count,
    parse_date,
    parse_number,
    read_csv,
)
from forecast.data.regions import ALL, check_known, parse_region_set, regions_named
from forecast.errors import InputError, did_you_mean
from forecast.timeaxis import TimeAxis, month_axis

BUNDLED_NAME = "bundled"
DEFAULT_DEFINITION = "counts"


def bundled_dir() -> Path:
    return Path(str(resources.files("forecast.data") / "files"))


def load_events(path: str | Path) -> pd.DataFrame:
    """Events CSV `date,kind[,name][,end_date]` (extra descriptive columns are kept).

    A YYYY-MM `end_date` runs through the month's last day, and so does any end_date of a row
    whose `date_precision` is `month` (its dates stand for whole months). On an act (ACT_KINDS: a killing,
    a strike) `end_date` can only record the act's last day: its effect starts on `date` and
    decays, it does not stop at `end_date`. Such rows are kept and named in one warning (whoever
    wrote the end may have meant the effect to stop there), except in the bundled file, whose
    README states the rule for its multi-day strike series.
    """
    path = Path(path)
    frame = read_csv(path, required=("date", "kind"), allow_extra=True)
    rows = []
    act_ends: list[str] = []
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        date = parse_date(rec["date"], path, i, "date")
        end = rec.get("end_date", "").strip()
        end_date = parse_date(end, path, i, "end_date", last_day=True) if end else pd.NaT
        if end and rec.get("date_precision", "").strip() == "month":
            # a date known to the month stands for the whole month: the end is its last day
            end_date = end_date + pd.offsets.MonthEnd(0)
        if end and end_date < date:
            raise InputError(path, f"end_date {end} is before date {rec['date']}", where=f"row {i}")
        kind = rec["kind"].strip()
        if kind not in EVENT_KINDS:
            raise InputError(path, f"unknown event kind {kind!r}{did_you_mean(kind, EVENT_KINDS)}; "
                             f"expected one of {', '.join(EVENT_KINDS)}", where=f"row {i}, column 'kind'")
        if end and kind in ACT_KINDS:
            act_ends.append(f"{i} ({kind})")
        name = check_text(rec.get("name", "").strip() or kind, path, i, "name", max_len=80)
        rows.append({"date": date, "end_date": end_date, "kind": kind, "name": name,
                     "summary": rec.get("summary", ""), "source": rec.get("source", "")})
    if act_ends and path.resolve() != (bundled_dir() / "events.csv").resolve():
        warnings.warn(
            f"{path}: rows {', '.join(act_ends)} give an end_date, which the model does not use for "
            f"these kinds: the effect of a {' or '.join(ACT_KINDS)} starts on its date and decays "
            "from there, it does not stop at end_date. For a state with an end (a truce, a war) use "
            "militia_truce or regional_war.", stacklevel=2)
    return pd.DataFrame(rows)


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(columns=["date", "end_date", "kind", "name", "summary", "source"])


def _published(text: str, end: pd.Timestamp, path: Path, row: int) -> pd.Timestamp:
    """A row's publication date: the `published` cell, or the last day of its span."""
    text = text.strip()
    if not text:
        return end
    # YYYY-MM: some day in that month, so its last day
    date = parse_date(text, path, row, "published", last_day=True)
    if date < end:
        # a count cannot be public before the last day it counts has passed
        raise InputError(path, f"published {text} is before the end of the row's span "
                         f"({end.date()})", where=f"row {row}, column 'published'")
    return date


def load_observations(path: str | Path, regions: list[str] | None = None) -> pd.DataFrame:
    """Observation rows in the bundled layout, validated row by row and across rows.

    `regions`: the presence data's regions, which every region a row names must be.
    """
    path = Path(path)
    check_names = regions is not None and regions != [ALL]
    frame = read_csv(path, required=("start", "end", "count", "bound", "definition"),
                     allow_extra=True)
    rows = []
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        start = parse_date(rec["start"], path, i, "start")
        end = parse_date(rec["end"], path, i, "end", last_day=True)  # YYYY-MM: through its last day
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
        region_set = parse_region_set(rec.get("region", ""), path, f"row {i}, column 'region'")
        if check_names:
            check_known(region_set, regions, path, f"row {i}, column 'region'")
        rows.append({
            "id": rec.get("id", "").strip() or f"row{i}", "start": start, "end": end,
            "count": int(lo if math.isnan(count) else count), "bound": bound, "lo": int(lo),
            "hi": float(hi), "definition": definition, "region": "+".join(region_set),
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


def _regional_fields(obs: pd.DataFrame, presence: RegionalPresence | None) -> dict:
    """Dataset fields for regions and presence: the presence data's regions when they name
    some, else the regions the observations name, else the one region 'all'."""
    if presence is not None and presence.regions != [ALL]:
        return {"regions": presence.regions, "presence": presence.total,
                "presence_by_region": presence.values, "presence_low_by_region": presence.low,
                "presence_high_by_region": presence.high, "presence_basis": presence.basis}
    fields: dict = {"regions": regions_named(obs["region"]) or [ALL]}
    if presence is not None:
        fields.update(presence=presence.total, presence_basis=presence.basis)
        if fields["regions"] == [ALL]:
            fields.update(presence_low_by_region=presence.low, presence_high_by_region=presence.high)
    return fields


def load_definition_notes(path: Path) -> dict[str, str]:
    """definitions.csv `definition,description[,...]`: what each counting definition counts."""
    frame = read_csv(path, required=("definition", "description"), allow_extra=True)
    return {rec["definition"].strip(): rec["description"].strip() for rec in frame.to_dict("records")}


def load_bundled(events: str | Path | None = None) -> Dataset:
    """The shipped dataset: fact-pack observations, troop presence by region and events."""
    folder = bundled_dir()
    presence = load_presence_wide(folder / "presence.csv")
    obs = load_observations(folder / "observations.csv", presence.regions)
    axis = month_axis(presence.months[0], presence.months[-1])
    event_file = Path(events) if events else folder / "events.csv"
    files = (folder / "observations.csv", folder / "presence.csv", event_file)
    dataset = Dataset(
        name=BUNDLED_NAME, axis=axis, observations=obs,
        events=load_events(event_file),
        reference="dod_facility_attacks", files=files, **_regional_fields(obs, presence),
        definition_notes=load_definition_notes(folder / "definitions.csv"),
    )
    check_counts_where_present(dataset, str(folder / "observations.csv"))
    return dataset


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


def load_counts(path: str | Path, events: str | Path | None = None,
                presence: str | Path | None = None) -> Dataset:
    """A plain counts CSV, one row per bin (and per series and region when those columns exist).

    `presence`: a wide presence file (forecast/data/presence.py) instead of a presence column.
    """
    path = Path(path)
    frame = read_csv(path, required=("date", "count"), allow_extra=True)
    covariate_cols = [c for c in frame.columns
                      if c not in ("date", "count", "series", "region", "published")]
    for col in covariate_cols:
        check_text(col, path, 1, col, max_len=60)
        if not col.replace("_", "").isalnum():
            raise InputError(path, f"covariate column name {col!r} must be letters, digits and _",
                             where="row 1 (header)")
    file_presence = load_presence_wide(presence) if presence else None
    if file_presence is not None and "presence" in covariate_cols:
        raise InputError(path, f"presence is given twice: in column 'presence' and in {presence}; "
                         "give it once", where="row 1 (header)")
    dates = [parse_date(v, path, i, "date") for i, v in enumerate(frame["date"], start=2)]
    counts = [parse_count(v, path, i, "count") for i, v in enumerate(frame["count"], start=2)]
    series = (
        [check_text(s.strip() or DEFAULT_DEFINITION, path, i, "series", max_len=80)
         for i, s in enumerate(frame["series"], start=2)]
        if "series" in frame.columns else [DEFAULT_DEFINITION] * len(frame)
    )
    region_sets = (
        [parse_region_set(v, path, f"row {i}, column 'region'")
         for i, v in enumerate(frame["region"], start=2)]
        if "region" in frame.columns else [()] * len(frame)
    )
    if file_presence is not None and file_presence.regions != [ALL]:
        for row, names in enumerate(region_sets, start=2):
            check_known(names, file_presence.regions, path, f"row {row}, column 'region'")
    axis = _infer_axis(dates, list(frame["date"]), path)
    if file_presence is not None and axis.freq == "month":
        # the presence file may run past the counts (the bundled one does): its months are bins too
        axis = month_axis(min(dates + file_presence.months), max(dates + file_presence.months))
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
    keys = ["+".join(names) for names in region_sets]
    seen: dict[tuple[str, str, int], int] = {}
    for row, (s, r, k) in enumerate(zip(series, keys, index), start=2):
        if (s, r, k) in seen:
            raise InputError(path, _duplicate_message(axis, frame["date"], seen[(s, r, k)], row, k)
                             + (f" in series {s!r}" if s != DEFAULT_DEFINITION else "")
                             + (f" for region {r!r}" if r else ""),
                             where=f"row {row}, column 'date'")
        seen[(s, r, k)] = row
    parts = []
    for definition, region in dict.fromkeys(zip(series, keys)):
        values = np.full(axis.n, np.nan)
        dates_public: list[pd.Timestamp] = [pd.NaT] * axis.n
        for s, r, k, c, p in zip(series, keys, index, counts, published):
            if s == definition and r == region:
                values[k] = c
                dates_public[k] = p
        parts.append(observations_from_bins(axis, values, definition, str(path), dates_public, region))
    obs = pd.concat(parts, ignore_index=True)
    if obs.empty:
        raise InputError(path, "every count is empty; nothing to fit", where="column 'count'")
    validate_observations(obs, str(path))
    regional = "region" in frame.columns and "presence" in covariate_cols
    if regional:
        covariate_cols.remove("presence")
        fields = _presence_by_row(frame["presence"], region_sets, index, axis, path)
    elif file_presence is not None:
        fields = _regional_fields(obs, file_presence.on_axis(axis, presence))
    else:
        fields = {"regions": regions_named(obs["region"]) or [ALL]}
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
            _check_total(values, axis, path)
            fields["presence"] = values
        else:
            covariates[col] = values
    event_frame = load_events(events) if events else _empty_events()
    files = (path,) + ((Path(presence),) if presence else ()) + ((Path(events),) if events else ())
    dataset = Dataset(
        name=path.stem, axis=axis, observations=obs, events=event_frame,
        reference=list(dict.fromkeys(series))[0],
        covariates=covariates if covariate_cols and len(covariates.columns) else pd.DataFrame(),
        files=files, **fields,
    )
    check_counts_where_present(dataset, str(path))
    return dataset


def _check_total(total: np.ndarray, axis: TimeAxis, path: Path) -> None:
    if (total <= 0).any():
        first = axis.labels[int(np.flatnonzero(total <= 0)[0])]
        raise InputError(path, f"presence is 0 in {first}: with no US presence there are no "
                         "targets to count; drop those bins", where="column 'presence'")


def _presence_by_row(cells: pd.Series, region_sets: list[tuple[str, ...]], index: list[int],
                     axis: TimeAxis, path: Path) -> dict:
    """Long layout: each row's `presence` is its region's; every region needs one in every bin."""
    regions = regions_named("+".join(names) for names in region_sets)
    if not regions:
        raise InputError(path, "the region column is empty in every row; name a region per row, or drop "
                         "the column", where="column 'region'")
    by_region = np.full((axis.n, len(regions)), np.nan)
    for row, (text, names, k) in enumerate(zip(cells, region_sets, index), start=2):
        if not text.strip():
            continue
        if len(names) != 1:
            counted = "+".join(names) or "every region"
            raise InputError(path, f"presence belongs to one region, but this row counts {counted}; leave "
                             "its presence empty and give each region's on its own rows",
                             where=f"row {row}, column 'presence'")
        j = regions.index(names[0])
        value = parse_number(text, path, row, "presence", minimum=0.0)
        if not np.isnan(by_region[k, j]) and by_region[k, j] != value:
            raise InputError(path, f"two different presence values for region '{names[0]}' in "
                             f"{axis.labels[k]}", where=f"row {row}, column 'presence'")
        by_region[k, j] = value
    if np.isnan(by_region).any():
        k, j = np.argwhere(np.isnan(by_region))[0]
        raise InputError(path, f"region '{regions[j]}' has no presence for {axis.labels[k]}; with a region "
                         "column every date needs a row per region with its presence (0 for no troops)",
                         where="column 'presence'")
    total = by_region.sum(axis=1)
    if (total <= 0).any():
        first = axis.labels[int(np.flatnonzero(total <= 0)[0])]
        raise InputError(path, f"presence is 0 in every region in {first}: with no US presence there "
                         "are no targets to count; drop those dates", where="column 'presence'")
    return {"regions": regions, "presence": total, "presence_by_region": by_region}


def load_dataset(spec: str | None = None, events: str | Path | None = None,
                 presence: str | Path | None = None) -> Dataset:
    """`spec` is 'bundled' (the default) or a path to a counts or observations CSV;
    `presence` a wide presence file to go with it (not with the bundled data)."""
    if spec in (None, BUNDLED_NAME):
        if presence:
            raise InputError(presence, "the bundled data have their own presence; a presence file goes "
                             "with your own counts or observations")
        return load_bundled(events)
    path = Path(spec)
    if not path.exists():
        raise InputError(path, f"no such file, and not a bundled dataset name (try '{BUNDLED_NAME}')")
    header = read_csv(path, required=(), allow_extra=True).columns
    if {"start", "end", "bound"} <= set(header):
        return _dataset_from_observation_file(path, events, presence)
    return load_counts(path, events, presence)


def _dataset_from_observation_file(path: Path, events: str | Path | None,
                                   presence: str | Path | None = None) -> Dataset:
    file_presence = load_presence_wide(presence) if presence else None
    obs = load_observations(path, file_presence.regions if file_presence else None)
    first, last = obs["start"].min(), obs["end"].max()
    if file_presence is not None:
        first, last = min(first, file_presence.months[0]), max(last, file_presence.months[-1])
    axis = month_axis(first, last)
    reference = obs[obs["use"] == "fit"]["definition"].iloc[0] if (obs["use"] == "fit").any() else None
    if reference is None:
        raise InputError(path, "no row has use=fit; nothing to fit", where="column 'use'")
    fields = (_regional_fields(obs, file_presence.on_axis(axis, presence)) if file_presence is not None
              else {"regions": regions_named(obs["region"]) or [ALL]})
    dataset = Dataset(
        name=path.stem, axis=axis, observations=obs,
        events=load_events(events) if events else _empty_events(), reference=reference,
        files=(path,) + ((Path(presence),) if presence else ()) + ((Path(events),) if events else ()),
        **fields,
    )
    check_counts_where_present(dataset, str(path))
    return dataset


__all__ = ["load_dataset", "load_bundled", "load_counts", "load_events", "load_observations",
           "OBSERVATION_COLUMNS"]
