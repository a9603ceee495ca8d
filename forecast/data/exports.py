"""Event-level exports (ACLED, UCDP GED) turned into counts per time bin.

An export is taken as the complete list of events for its span: bins between the
first and last matching event that hold no matching event count as zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.dataset import Dataset, observations_from_bins
from forecast.data.loaders import _empty_events, load_events
from forecast.data.readers import check_text, parse_date, read_csv
from forecast.errors import InputError, did_you_mean
from forecast.timeaxis import FREQUENCIES, TimeAxis, month_axis

DEFAULT_TARGETS = ["Military Forces of the United States"]
DEFAULT_PERPETRATORS = [
    "Islamic Resistance in Iraq",
    "Kataib Hezbollah",
    "Harakat Hezbollah al-Nujaba",
    "Kataib Sayyid al-Shuhada",
    "Popular Mobilization Forces",
    "Unidentified Armed Group (Iraq)",
    "Unidentified Armed Group (Syria)",
]
# Same ceiling as a counts CSV: longer axes make the models impractically slow.
MAX_BINS = 5000
# ACLED's associated-actor cells list several actors, so allow more than a single name.
MAX_ACTOR_CHARS = 1000

_ISO_DAY_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_LONG_DAY_RE = re.compile(r"^(\d{1,2})[ -]([A-Za-z]+)\.?[ -](\d{4})$")
# English names written out, so parsing does not depend on the process locale.
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_MONTH_NUMBERS = {name: i for i, name in enumerate(_MONTHS, start=1)}
_MONTH_NUMBERS.update({name[:3]: i for i, name in enumerate(_MONTHS, start=1)})


@dataclass(frozen=True)
class _Layout:
    """Which columns of an export hold the date, the id and the two sides of an event."""

    date_column: str
    id_column: str
    required: tuple[str, ...]
    perpetrator_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    # UCDP's side_a/side_b are not attacker/attacked, so either side may be the perpetrator.
    either_side: bool


LAYOUTS = {
    "acled": _Layout(
        date_column="event_date", id_column="event_id_cnty",
        required=("event_date", "actor1", "actor2", "country"),
        perpetrator_columns=("actor1", "assoc_actor_1"),
        target_columns=("actor2", "assoc_actor_2"), either_side=False,
    ),
    "ucdp": _Layout(
        date_column="date_start", id_column="id", required=("date_start", "side_a", "side_b"),
        perpetrator_columns=("side_a",), target_columns=("side_b",), either_side=True,
    ),
}


def load_event_export(path: str | Path, layout: str, perpetrators: Sequence[str] | None,
                      targets: Sequence[str] | None, freq: str = "month") -> pd.DataFrame:
    """Counts of matching events per bin: columns `date` (bin label) and `count` (int)."""
    axis, counts = _bin_counts(Path(path), layout, perpetrators, targets, freq)
    return pd.DataFrame({"date": axis.labels, "count": counts.astype(int)})


def export_to_dataset(path: str | Path, layout: str, perpetrators: Sequence[str] | None,
                      targets: Sequence[str] | None, freq: str = "month",
                      events: str | Path | None = None) -> Dataset:
    """The Dataset a counts CSV of the binned export would give; the definition is the layout."""
    path = Path(path)
    axis, counts = _bin_counts(path, layout, perpetrators, targets, freq)
    obs = observations_from_bins(axis, counts.astype(float), layout, str(path))
    return Dataset(
        name=path.stem, axis=axis, observations=obs,
        events=load_events(events) if events else _empty_events(), reference=layout,
        files=(path,) + ((Path(events),) if events else ()),
    )


def _bin_counts(path: Path, layout: str, perpetrators: Sequence[str] | None,
                targets: Sequence[str] | None, freq: str) -> tuple[TimeAxis, np.ndarray]:
    spec = _layout(path, layout)
    _check_freq(path, freq)
    dates = _matching_dates(path, spec, _needles(perpetrators), _needles(targets))
    if not dates:
        columns = ", ".join(spec.perpetrator_columns + spec.target_columns)
        raise InputError(path, f"no event matches the actor filter (perpetrators: "
                         f"{_describe(perpetrators)}; targets: {_describe(targets)})",
                         where=f"columns {columns}")
    axis = _axis_for(min(dates), max(dates), freq)
    if axis.n > MAX_BINS:
        raise InputError(path, f"matching events span {axis.n} {freq}s; at most {MAX_BINS} bins "
                         "are supported", where=f"column '{spec.date_column}'")
    index = np.array([axis.index_of(d) for d in dates])
    return axis, np.bincount(index, minlength=axis.n)


def _layout(path: Path, layout: str) -> _Layout:
    if layout not in LAYOUTS:
        raise InputError(path, f"unknown export layout {layout!r}{did_you_mean(layout, LAYOUTS)}; "
                         f"expected one of {', '.join(LAYOUTS)}")
    return LAYOUTS[layout]


def _check_freq(path: Path, freq: str) -> None:
    if freq not in FREQUENCIES:
        raise InputError(path, f"unknown frequency {freq!r}{did_you_mean(freq, FREQUENCIES)}; "
                         f"expected one of {', '.join(FREQUENCIES)}")


def _names(names: Sequence[str] | None) -> tuple[str, ...]:
    """The non-blank filter strings as given."""
    if isinstance(names, str):  # a bare string would otherwise be read letter by letter
        names = [names]
    return tuple(n.strip() for n in names or () if n.strip())


def _needles(names: Sequence[str] | None) -> tuple[str, ...]:
    """Lower-cased filter strings; empty means 'match everything'."""
    return tuple(n.lower() for n in _names(names))


def _describe(names: Sequence[str] | None) -> str:
    given = _names(names)
    return ", ".join(repr(n) for n in given) if given else "any"


def _matching_dates(path: Path, spec: _Layout, perpetrators: tuple[str, ...],
                    targets: tuple[str, ...]) -> list[pd.Timestamp]:
    """Dates of the rows that pass the filters; every row's date and actors are checked."""
    frame = read_csv(path, required=spec.required, allow_extra=True)
    actor_columns = [c for c in spec.perpetrator_columns + spec.target_columns
                     if c in frame.columns]
    parsed: dict[str, pd.Timestamp] = {}  # exports repeat dates; parse each text once
    first_row_of_id: dict[str, int] = {}
    dates = []
    for row, rec in enumerate(frame.to_dict("records"), start=2):
        text = rec[spec.date_column]
        if text not in parsed:
            parsed[text] = _event_date(text, path, row, spec.date_column)
        for column in actor_columns:
            check_text(rec[column], path, row, column, max_len=MAX_ACTOR_CHARS)
        _check_unique_id(rec.get(spec.id_column, "").strip(), first_row_of_id, path, row,
                         spec.id_column)
        if _matches(rec, spec, perpetrators, targets):
            dates.append(parsed[text])
    return dates


def _check_unique_id(event_id: str, seen: dict[str, int], path: Path, row: int,
                     column: str) -> None:
    # A repeated id means rows were pasted twice, which would double the counts.
    if not event_id:
        return
    if event_id in seen:
        raise InputError(path, f"event id {event_id!r} repeats row {seen[event_id]}",
                         where=f"row {row}, column '{column}'")
    seen[event_id] = row


def _matches(rec: dict[str, str], spec: _Layout, perpetrators: tuple[str, ...],
             targets: tuple[str, ...]) -> bool:
    perpetrator_side = _cells(rec, spec.perpetrator_columns)
    target_side = _cells(rec, spec.target_columns)
    if _any_in(perpetrators, perpetrator_side) and _any_in(targets, target_side):
        return True
    return spec.either_side and _any_in(perpetrators, target_side) and _any_in(
        targets, perpetrator_side)


def _cells(rec: dict[str, str], columns: tuple[str, ...]) -> str:
    # Joined with a newline so a needle cannot match across two cells.
    return "\n".join(rec.get(c, "") for c in columns).lower()


def _any_in(needles: tuple[str, ...], haystack: str) -> bool:
    return not needles or any(n in haystack for n in needles)


def _event_date(value: str, path: Path, row: int, column: str) -> pd.Timestamp:
    """A day as YYYY-MM-DD (a trailing time is ignored) or as '15 January 2024'."""
    text = value.strip()
    iso = _iso_day(text)
    where = f"row {row}, column '{column}'"
    if iso is None:
        raise InputError(path, f"cannot read date {text!r}; expected YYYY-MM-DD, "
                         "YYYY-MM-DD HH:MM:SS or '15 January 2024'", where=where)
    try:
        return parse_date(iso, path, row, column, month_ok=False)
    except InputError as exc:
        if iso == text:
            raise
        raise InputError(path, f"date {text!r}: {exc.detail}", where=where) from None


def _iso_day(text: str) -> str | None:
    """The YYYY-MM-DD part of a date text, or None when the text is not a known format."""
    iso = _ISO_DAY_RE.match(text)
    if iso:
        return iso.group(1)
    long = _LONG_DAY_RE.match(text)
    month = _MONTH_NUMBERS.get(long.group(2).lower()) if long else None
    if long is None or month is None:
        return None
    return f"{long.group(3)}-{month:02d}-{int(long.group(1)):02d}"


def _axis_for(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> TimeAxis:
    if freq == "month":
        return month_axis(first, last)
    monday = first - pd.Timedelta(days=first.weekday())
    return TimeAxis("week", monday, (last - monday).days // 7 + 1)


__all__ = ["DEFAULT_PERPETRATORS", "DEFAULT_TARGETS", "LAYOUTS", "export_to_dataset",
           "load_event_export"]
