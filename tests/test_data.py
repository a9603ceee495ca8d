"""Bundled dataset, user data loaders and their error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.cli import main
from forecast.data.loaders import load_bundled, load_counts, load_dataset, load_observations
from forecast.errors import InputError
from forecast.families.latent_ar.graph import LatentARModel
from tests.conftest import counts_csv


def test_bundled_dataset_is_valid_and_uses_every_kind_of_observation():
    data = load_bundled()
    fitted = data.fitted
    assert data.axis.labels[0] == "2019-01" and data.axis.labels[-1] == "2026-12"
    assert set(fitted["bound"]) == {"exact", "at_least", "approx"}
    # totals over several months enter the likelihood, not only single months
    spans = (fitted["end"] - fitted["start"]).dt.days
    assert (spans > 40).sum() >= 8
    assert data.presence is not None and (data.presence > 0).all()
    # every bundled row keeps its citation
    raw = pd.read_csv("forecast/data/files/observations.csv", dtype=str, keep_default_na=False)
    assert (raw["source"].str.len() > 0).all()


def test_bundled_fitted_rows_of_one_definition_never_share_a_day_in_a_region():
    data = load_bundled()
    fitted = data.fitted
    cover = data.region_cover(fitted)
    for _, group in fitted.groupby("definition"):
        covered: dict[int, set] = {j: set() for j in range(len(data.regions))}
        for (i, row) in group.iterrows():
            span = set(pd.date_range(row["start"], row["end"]))
            for j in np.flatnonzero(cover[fitted.index.get_loc(i)]):
                assert not covered[j] & span, (row["id"], data.regions[j])
                covered[j] |= span


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
    for needle in ("96 months, 2019-01 .. 2026-12", "fitted rows by kind", "dod_facility_attacks",
                   "gaps with no likelihood term", "per year",
                   # the 2026 war's floors are the last information; the axis runs on with presence
                   "latest month with any information (any observation row, fit or check): 2026-03 "
                   "(9 later months have none)",
                   "latest published date of an observation: 2026-03-31"):
        assert needle in out


def test_describe_states_latest_information_of_user_data(write):
    from forecast.data.summary import describe

    path = write("c.csv", "date,count,published\n2020-01,3,2020-03-15\n2020-02,1,\n2020-03,,\n")
    text = describe(load_counts(path))
    # March has no count: the last month with information is February
    assert "latest month with any information (any observation row, fit or check): 2020-02 " \
           "(1 later months have none)" in text
    assert "latest published date of an observation: 2020-03-15" in text


def test_published_dates_default_to_the_end_of_the_span(write):
    path = write("obs.csv", "start,end,count,bound,definition,use,published\n"
                 "2020-01-01,2020-03-31,10,exact,dod,fit,2020-04-20\n"
                 "2020-04-01,2020-04-30,4,exact,dod,fit,\n"
                 "2020-05-01,2020-05-31,2,exact,dod,fit,2020-06\n")
    obs = load_observations(path)
    assert [d.date().isoformat() for d in obs["published"]] == ["2020-04-20", "2020-04-30", "2020-06-30"]
    # without the column every row is published at the end of its span
    plain = load_observations(write("plain.csv", "start,end,count,bound,definition\n"
                                    "2020-01-01,2020-03-31,10,exact,dod\n"))
    assert plain["published"].iloc[0] == pd.Timestamp("2020-03-31")
    assert "published" in load_dataset(str(path)).observations.columns


def test_published_before_the_span_ends_is_refused(write, capsys):
    path = write("obs.csv", "start,end,count,bound,definition,published\n"
                 "2020-01-01,2020-03-31,10,exact,dod,2020-03-30\n")
    with pytest.raises(InputError, match="published 2020-03-30 is before the end of the row's span"):
        load_observations(path)
    counts = write("c.csv", "date,count,published\n2020-01,3,2020-01-15\n")
    assert main(["data", "validate", str(counts)]) == 2
    assert "row 2, column 'published'" in capsys.readouterr().err


def test_counts_csv_published_column_is_a_date_not_a_covariate(write):
    path = write("c.csv", "date,count,presence,published\n2020-01,3,2.0,2020-02-10\n"
                 "2020-02,1,2.0,\n")
    data = load_counts(path)
    assert data.covariates.empty and data.presence is not None
    assert list(data.observations["published"]) == [pd.Timestamp("2020-02-10"),
                                                    pd.Timestamp("2020-02-29")]
    # the publication date is for real-time evaluation: it does not change what is fitted
    same = load_counts(write("d.csv", "date,count,presence\n2020-01,3,2.0\n2020-02,1,2.0\n"))
    assert data.content_hash() == same.content_hash()


def test_bundled_published_dates_follow_the_documented_rule():
    raw = pd.read_csv("forecast/data/files/observations.csv", dtype=str, keep_default_na=False)
    end, published = pd.to_datetime(raw["end"]), pd.to_datetime(raw["published"])
    assert (published >= end).all()
    lagged = raw["published_rule"] == "end+30d"
    assert ((published - end)[lagged] == pd.Timedelta(days=30)).all()
    assert set(raw["published_rule"]) == {"citation", "end+30d"}
    # a citation's date: the Pentagon's 17-31 Oct 2023 count, reported on 31 Oct
    row = raw[(raw["start"] == "2023-10-17") & (raw["end"] == "2023-10-31") & (raw["use"] == "fit")]
    assert list(row["published"]) == ["2023-10-31"]
    assert list(load_bundled().observations["published"]) == list(published)


def test_bundled_2025_2026_facts_enter_as_what_they_are():
    data = load_bundled()
    obs, events = data.observations, data.events
    # unknown months stay unknown: no row at all touches 2025 outside June, nor 2026 after March
    for first, last in (("2025-01-01", "2025-05-31"), ("2025-07-01", "2026-02-27"),
                        ("2026-04-01", "2026-12-31")):
        touching = obs[(obs["start"] <= pd.Timestamp(last)) & (obs["end"] >= pd.Timestamp(first))]
        assert touching.empty, touching["id"].tolist()
    # the 2026 counts are floors in definitions of their own, each with its own prior
    fitted_2026 = data.fitted[data.fitted["start"] >= pd.Timestamp("2026-01-01")]
    assert len(fitted_2026) == 2 and set(fitted_2026["bound"]) == {"at_least"}
    assert data.reference not in set(fitted_2026["definition"])
    priors = LatentARModel.default_priors_file().read_text()
    for definition in fitted_2026["definition"]:
        assert f"[reporting_ratio.{definition}]" in priors
    # militia claims are never fitted
    claims = obs[obs["definition"] == "iri_claims"]
    assert len(claims) >= 10 and set(claims["use"]) == {"check"}
    # the 2026 war ends at the 7 April ceasefire; Iran's leadership is its own decapitation group
    war = events[(events["kind"] == "regional_war") & (events["date"] == pd.Timestamp("2026-02-28"))]
    assert list(war["end_date"]) == [pd.Timestamp("2026-04-07")]
    group = events[events["name"] == "iran_leadership_2026"]
    assert list(group["kind"]) == ["decapitation"] and list(group["date"]) == [pd.Timestamp("2026-02-28")]
    assert (events[events["kind"] == "regional_war"]["date"] <= pd.Timestamp("2026-02-28")).all()
    handovers = events[(events["kind"] == "troop_change") & (events["date"] >= pd.Timestamp("2026-01-01"))]
    assert len(handovers) >= 5
    # truces with Israel and the end of a truce are context, not modelled truces
    truces = events[events["kind"] == "militia_truce"]
    assert not truces["summary"].str.contains("Israel|end of their", case=False).any()
    # every change of a source row's kind is stated with its reason in the file
    raw = pd.read_csv("forecast/data/files/events.csv", dtype=str, keep_default_na=False)
    changed = raw[raw["curation"].str.startswith("kind ")]
    assert len(changed) == 7 and (changed["kind"] == "other").all()
    assert set(changed[changed["date"].str.startswith("2025-06")]["summary"].str[:9]) == {
        "IRGC comm", "Funeral i"}   # the Twelve-Day War killings: context, not a fitted group


def test_bundled_presence_runs_through_2026_with_ranges():
    table = pd.read_csv("forecast/data/files/presence.csv")
    assert table["month"].iloc[-1] == "2026-12"
    assert ((table["iraq"] + table["syria"] - table["presence"]).abs() < 1e-9).all()
    ranged = table.dropna(subset=["presence_low"])
    assert (ranged["presence_low"] <= ranged["presence"]).all()
    assert (ranged["presence"] <= ranged["presence_high"]).all()
    # the unconfirmed Syria withdrawal of 2026 carries a range and says so
    late = table[table["month"] >= "2026-03"]
    assert late["presence_low"].notna().all() and late["basis"].str.contains("NOT confirmed|neither "
                                                                               "confirmed").all()
    assert table["jordan"].notna().any() and (table["jordan"].dropna() >= 3).all()


def test_load_dataset_unknown_name(capsys):
    with pytest.raises(InputError, match="no such file"):
        load_dataset("not_a_dataset")


def test_an_end_date_known_to_the_month_runs_through_that_month(write):
    from forecast.data.loaders import load_events

    events = load_events(write("e.csv", "date,end_date,date_precision,kind,name\n"
                                        "2024-02-01,2024-04-01,month,militia_truce,truce\n"
                                        "2024-05-03,2024-05-09,day,militia_truce,truce\n"))
    assert list(events["end_date"].dt.date.astype(str)) == ["2024-04-30", "2024-05-09"]


def test_the_bundled_feb_apr_2024_truce_holds_through_april():
    from forecast.data.loaders import load_bundled

    events = load_bundled().events
    row = events[(events["kind"] == "militia_truce") & (events["date"] == pd.Timestamp("2024-02-01"))]
    assert str(row["end_date"].iloc[0].date()) == "2024-04-30"
