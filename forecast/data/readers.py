"""Strict reading of user CSV files: every problem names the file, row and column.

Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import math
import re
from io import StringIO
from pathlib import Path

import pandas as pd

from forecast.errors import InputError, did_you_mean
from forecast.safeio import read_bytes

MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Dates outside this window are almost surely typing errors (and break the time axis).
EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31")
MAX_FILE_BYTES = 200 * 1024 * 1024


def read_csv(path: str | Path, required: tuple[str, ...], optional: tuple[str, ...] = (),
             allow_extra: bool = False) -> pd.DataFrame:
    """Read a CSV as text cells, checking that it is a readable, non-empty UTF-8 table."""
    path = Path(path)
    raw = read_bytes(path, MAX_FILE_BYTES, "CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    if not text.strip():
        raise InputError(path, "the file is empty; expected a header row and data rows")
    if "\x00" in text:
        raise InputError(path, "contains NUL bytes; expected a text CSV file")
    _check_fields(text, path)
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(path, f"not a readable CSV table ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = [c for c in frame.columns if list(frame.columns).count(c) > 1 or ".1" in c]
    if len(set(frame.columns)) != len(frame.columns):
        raise InputError(path, f"duplicate column names: {sorted(set(duplicated))}", where="row 1")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        hint = did_you_mean(missing[0], frame.columns)
        raise InputError(path, f"missing column '{missing[0]}'{hint}; required columns are "
                         f"{', '.join(required)}", where="row 1 (header)")
    if not allow_extra:
        extra = [c for c in frame.columns if c not in required + optional]
        if extra:
            hint = did_you_mean(extra[0], required + optional)
            raise InputError(path, f"unknown column '{extra[0]}'{hint}; allowed columns are "
                             f"{', '.join(required + optional)}", where="row 1 (header)")
    if frame.empty:
        raise InputError(path, "has a header but no data rows")
    return frame


def _check_fields(text: str, path: Path) -> None:
    """Every row has as many fields as the header, and no header name repeats.

    pandas would rename a repeated column ('count.1'), take an extra field as a row label
    (shifting the row's cells) and fill a missing one as empty (an unknown count)."""
    rows = csv.reader(StringIO(text), skipinitialspace=True)
    try:
        header = [c.strip() for c in next(rows)]
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise InputError(path, f"column {repeated[0]!r} appears more than once in the header",
                             where="row 1")
        for row in rows:
            if any(field.strip() for field in row) and len(row) != len(header):
                what = "more" if len(row) > len(header) else "fewer"
                raise InputError(path, f"{len(row)} fields, {what} than the header's {len(header)} "
                                 f"({', '.join(header)}); a stray comma, or a truncated row?",
                                 where=f"row {rows.line_num}")
    except csv.Error as exc:
        raise InputError(path, f"not a readable CSV table ({exc})", where=f"row {rows.line_num}") from None


# a plain decimal number: no '_' separators, no hex, no 'inf' spelled out
NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_date(value: str, path: Path, row: int, column: str, *, month_ok: bool = True,
               last_day: bool = False) -> pd.Timestamp:
    """A YYYY-MM-DD (or YYYY-MM) date. A bare month is its first day, or its last day when
    `last_day` (an end or a publication date: through the end of that month)."""
    value = value.strip()
    ok = DAY_RE.match(value) or (month_ok and MONTH_RE.match(value))
    if not ok:
        expected = "YYYY-MM or YYYY-MM-DD" if month_ok else "YYYY-MM-DD"
        raise InputError(path, f"cannot read date {value!r}; expected {expected}",
                         where=f"row {row}, column '{column}'")
    try:
        stamp = pd.Timestamp(value + ("-01" if MONTH_RE.match(value) else ""))
    except (ValueError, OverflowError):
        raise InputError(path, f"{value!r} is not a calendar date",
                         where=f"row {row}, column '{column}'") from None
    if last_day and MONTH_RE.match(value):
        stamp = stamp + pd.offsets.MonthEnd(0)
    if not EARLIEST <= stamp <= LATEST:
        raise InputError(path, f"date {value} is outside {EARLIEST.year}-{LATEST.year}",
                         where=f"row {row}, column '{column}'")
    return stamp


def parse_count(value: str, path: Path, row: int, column: str) -> float:
    """A non-negative whole number; an empty cell is an unknown count (NaN)."""
    value = value.strip()
    if value == "":
        return math.nan
    try:
        number = _float(value)
    except ValueError:
        raise InputError(path, f"count {value!r} is not a number; expected a whole number >= 0",
                         where=f"row {row}, column '{column}'") from None
    if not math.isfinite(number):
        raise InputError(path, f"count {value!r} is not finite; expected a whole number >= 0",
                         where=f"row {row}, column '{column}'")
    if number < 0:
        raise InputError(path, f"count {value} is negative; expected a whole number >= 0",
                         where=f"row {row}, column '{column}'")
    if number != int(number):
        raise InputError(path, f"count {value} is fractional; expected a whole number >= 0",
                         where=f"row {row}, column '{column}'")
    if number > 1e7:
        raise InputError(path, f"count {value} is implausibly large (over 10 million)",
                         where=f"row {row}, column '{column}'")
    return number


def parse_number(value: str, path: Path, row: int, column: str, *, minimum: float | None = None) -> float:
    value = value.strip()
    try:
        number = _float(value)
    except ValueError:
        raise InputError(path, f"{value!r} is not a number", where=f"row {row}, column '{column}'") from None
    if not math.isfinite(number) or abs(number) > 1e9:
        raise InputError(path, f"{value!r} is not a finite number of sensible size",
                         where=f"row {row}, column '{column}'")
    if minimum is not None and number < minimum:
        raise InputError(path, f"{value} is below the minimum {minimum}",
                         where=f"row {row}, column '{column}'")
    return number


def _float(value: str) -> float:
    """float() of a plain number only ('1_000' and '0x10' are typing errors, not 1000 and 16)."""
    lowered = value.lower()
    if lowered in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        return float(value)      # refused by the callers as not finite
    if not NUMBER_RE.match(value):
        raise ValueError(value)
    return float(value)


def check_text(value: str, path: Path, row: int, column: str, *, max_len: int = 200) -> str:
    """Names and labels: printable, bounded length."""
    if len(value) > max_len:
        raise InputError(path, f"text longer than {max_len} characters",
                         where=f"row {row}, column '{column}'")
    if any(ord(ch) < 32 for ch in value):
        raise InputError(path, "contains control characters", where=f"row {row}, column '{column}'")
    return value
