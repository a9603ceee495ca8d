"""Bundled dataset, user data loaders and their error messages."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.cli import main
from forecast.data.loaders import load_bundled, load_counts, load_dataset, load_observations
from forecast.errors import InputError
from tests.conftest import counts_csv


def test_bundled_dataset_is_valid_and_uses_every_kind_of_observation():
    data = load_bundled()
    fitted = data.fitted
    assert data.axis.labels[0] == "2019-01" and data.axis.labels[-1] == "2025-12"
    assert set(fitted["bound"]) == {"exact", "at_least", "approx"}
    # totals over several months enter the likelihood, not only single months
    spans = (fitted["end"] - fitted["start"]).dt.days
    assert (spans > 40).sum() >= 8
    assert data.presence is not None and (data.presence > 0).all()
    # every bundled row keeps its citation
    raw = pd.read_csv("forecast/data/files/observations.csv", dtype=str, keep_default_na=False)
    assert (raw["source"].str.len() > 0).all()


def test_bundled_fitted_rows_of_one_definition_never_share_a_day():
    fitted = load_bundled().fitted
    for _, group in fitted.groupby("definition"):
        covered: set = set()
        for start, end in zip(group["start"], group["end"]):
            span = set(pd.date_range(start, end))
            assert not covered & span
            covered |= span


def test_overlapping_fitted_rows_are_refused(write):
    path = write("obs.csv", "start,end,count,bound,definition,use\n"
                 "2020-01-01,2020-03-31,10,exact,dod,fit\n"
                 "2020-03-01,2020-03-31,4,exact,dod,fit\n")
    with pytest.raises(InputError, match="both cover 2020-03-01..2020-03-31"):
        load_observations(path)


def test_overlap_allowed_when_one_row_is_a_check(write):
    path = write("obs.csv", "start,end,count,bound,definition,use\n"
                 "2020-01-01,2020-03-31,10,exact,dod,fit\n"
                 "2020-03-01,2020-03-31,4,exact,dod,check\n")
    assert len(load_observations(path)) == 2


def test_counts_csv_with_presence_and_events(write):
    data_path = write("counts.csv", counts_csv())
    events = write("events.csv", "date,kind,name\n2022-06-15,decapitation,leader\n")
    data = load_counts(data_path, events)
    assert data.axis.n == 24 and data.axis.freq == "month"
    assert data.presence is not None and len(data.fitted) == 24
    assert list(data.events["name"]) == ["leader"]


def test_weekly_counts_are_detected(write):
    rows = "\n".join(f"{d.date()},{i % 3},2.0" for i, d in
                     enumerate(pd.date_range("2020-01-06", periods=10, freq="7D")))
    data = load_counts(write("w.csv", "date,count,presence\n" + rows + "\n"))
    assert data.axis.freq == "week" and data.axis.n == 10


def test_empty_count_cells_are_unknown_not_zero(write):
    data = load_counts(write("c.csv", "date,count\n2020-01,3\n2020-02,\n2020-03,0\n"))
    assert list(data.fitted["count"]) == [3, 0]
    assert data.axis.n == 3


MALFORMED = {
    "missing column": ("date,cnt\n2020-01,3\n", "missing column 'count'"),
    "unparsable date": ("date,count\n2020/01/05,3\n", "row 2, column 'date'"),
    "negative count": ("date,count\n2020-01,-3\n", "negative"),
    "fractional count": ("date,count\n2020-01,2.5\n", "fractional"),
    "duplicate month": ("date,count\n2020-01,2\n2020-01-15,4\n", "duplicate month 2020-01"),
    "empty file": ("", "empty"),
    "header only": ("date,count\n", "no data rows"),
    "wrong encoding": ("date,count\n2020-01,3\n".encode("utf-16"), "not UTF-8"),
    "NaN count": ("date,count\n2020-01,nan\n", "not finite"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_counts_exit_2_with_a_clear_message(case, write, capsys):
    text, expected = MALFORMED[case]
    path = write("bad.csv", text)
    assert main(["data", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "bad.csv" in err and "Traceback" not in err


def test_unknown_event_kind_exits_2(write, capsys):
    data = write("c.csv", counts_csv())
    events = write("e.csv", "date,kind\n2022-03-01,decapitaton\n")
    assert main(["data", "validate", str(data), "--events", str(events)]) == 2
    err = capsys.readouterr().err
    assert "row 2, column 'kind'" in err and "did you mean 'decapitation'" in err


def test_overlapping_fitted_spans_exit_2(write, capsys):
    path = write("obs.csv", "start,end,count,bound,definition,use\n"
                 "2020-01-01,2020-02-29,5,exact,dod,fit\n2020-02-01,2020-02-29,2,exact,dod,fit\n")
    assert main(["data", "validate", str(path)]) == 2
    assert "counted twice" in capsys.readouterr().err


def test_directory_instead_of_file_exits_2(tmp_path, capsys):
    assert main(["data", "validate", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_data_show_prints_the_bundled_summary(capsys):
    assert main(["data", "show"]) == 0
    out = capsys.readouterr().out
    for needle in ("84 months, 2019-01 .. 2025-12", "fitted rows by kind", "dod_facility_attacks",
                   "gaps with no likelihood term", "per year"):
        assert needle in out


def test_load_dataset_unknown_name(capsys):
    with pytest.raises(InputError, match="no such file"):
        load_dataset("not_a_dataset")
