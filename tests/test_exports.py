"""Event-level exports (ACLED, UCDP GED) binned into counts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from forecast.data.exports import (
    DEFAULT_PERPETRATORS,
    DEFAULT_TARGETS,
    export_to_dataset,
    load_event_export,
)
from forecast.data.loaders import load_counts
from forecast.errors import InputError

ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp",
]
UCDP_COLUMNS = [
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id",
    "conflict_new_id", "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name",
    "side_a_dset_id", "side_a_new_id", "side_a", "side_b_dset_id", "side_b_new_id", "side_b",
    "number_of_sources", "source_article", "source_office", "source_date", "source_headline",
    "source_original", "where_prec", "where_coordinates", "where_description", "adm_1", "adm_2",
    "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
    "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b",
    "deaths_civilians", "deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
]
IRI = "Islamic Resistance in Iraq"
US = "Military Forces of the United States (2021-)"
IRAQ = "Military Forces of Iraq (2022-)"


def acled_row(event_id: str, date: str, actor1: str = IRI, actor2: str = US,
              **extra: str) -> dict[str, str]:
    row = {
        "event_id_cnty": event_id, "event_date": date, "year": date[-4:] if " " in date
        else date[:4], "time_precision": "1", "disorder_type": "Political violence",
        "event_type": "Explosions/Remote violence", "sub_event_type": "Shelling/artillery/missile "
        "attack", "actor1": actor1, "assoc_actor_1": "", "inter1": "Rebel group",
        "actor2": actor2, "assoc_actor_2": "", "inter2": "External/Other forces",
        "interaction": "Rebel group-External/Other forces", "civilian_targeting": "",
        "iso": "368", "region": "Middle East", "country": "Iraq", "admin1": "Al Anbar",
        "admin2": "Heet", "admin3": "", "location": "Ain al Asad Air Base",
        "latitude": "33.8003", "longitude": "42.4412", "geo_precision": "1",
        "source": "Shafaq News; Xinhua", "source_scale": "National-International",
        "notes": f"On {date}, a rocket attack targeted US forces at Ain al Asad, "
        "\"no casualties\".",
        "fatalities": "0", "tags": "", "timestamp": "1706745600",
    }
    row.update(extra)
    return row


def ucdp_row(event_id: str, date: str, side_a: str, side_b: str) -> dict[str, str]:
    return {
        "id": event_id, "relid": f"IRQ-2024-1-{event_id}", "year": date[:4], "active_year": "1",
        "code_status": "Clear", "type_of_violence": "1", "conflict_dset_id": "259",
        "conflict_new_id": "259", "conflict_name": "Iraq: Government",
        "dyad_dset_id": "15633", "dyad_new_id": "15633", "dyad_name": f"{side_a} - {side_b}",
        "side_a_dset_id": "117", "side_a_new_id": "117", "side_a": side_a,
        "side_b_dset_id": "7020", "side_b_new_id": "7020", "side_b": side_b,
        "number_of_sources": "2", "source_article": "Reuters,2024-01-28,\"Drone attack\"",
        "source_office": "Reuters", "source_date": date[:10], "source_headline": "Drone attack",
        "source_original": "US CENTCOM", "where_prec": "1",
        "where_coordinates": "Tower 22 base", "where_description": "near Rukban",
        "adm_1": "Ma'an governorate", "adm_2": "", "latitude": "33.3167",
        "longitude": "38.6833", "geom_wkt": "POINT (38.6833 33.3167)", "priogrid_gid": "175037",
        "country": "Jordan", "country_id": "663", "region": "Middle East",
        "event_clarity": "1", "date_prec": "1", "date_start": date, "date_end": date,
        "deaths_a": "3", "deaths_b": "0", "deaths_civilians": "0", "deaths_unknown": "0",
        "best": "3", "high": "3", "low": "3", "gwnoa": "2", "gwnob": "",
    }


def write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def as_pairs(frame) -> list[tuple[str, int]]:
    return list(zip(frame["date"], frame["count"].astype(int), strict=True))


@pytest.fixture
def acled_file(tmp_path: Path) -> Path:
    rows = [
        # before the first matching event: must not open the span
        acled_row("IRQ1", "2023-12-20", actor1="Islamic State (Iraq)", actor2=IRAQ),
        acled_row("IRQ2", "2024-01-04"),
        acled_row("IRQ3", "2024-01-20", actor1="Kataib Hezbollah", assoc_actor_1=IRI),
        acled_row("IRQ4", "2024-02-10", actor2=IRAQ),  # Iraqi target: dropped
        acled_row("SYR5", "2024-02-12", actor1="Islamic State (Syria)", country="Syria"),
        acled_row("IRQ6", "2024-03-02", actor2="Civilians (Iraq)", assoc_actor_2=US),
    ]
    return write_rows(tmp_path / "acled_export.csv", ACLED_COLUMNS, rows)


def test_monthly_counts_have_zero_month_between_active_months(acled_file: Path) -> None:
    frame = load_event_export(acled_file, "acled", DEFAULT_PERPETRATORS, DEFAULT_TARGETS)
    assert list(frame.columns) == ["date", "count"]
    assert frame["count"].dtype.kind == "i"
    assert as_pairs(frame) == [("2024-01", 2), ("2024-02", 0), ("2024-03", 1)]


def test_target_filter_drops_non_us_targets(acled_file: Path) -> None:
    us_only = load_event_export(acled_file, "acled", [IRI], DEFAULT_TARGETS)
    any_target = load_event_export(acled_file, "acled", [IRI], None)
    assert as_pairs(us_only) == [("2024-01", 2), ("2024-02", 0), ("2024-03", 1)]
    assert as_pairs(any_target) == [("2024-01", 2), ("2024-02", 1), ("2024-03", 1)]


def test_empty_filters_match_every_event(acled_file: Path) -> None:
    frame = load_event_export(acled_file, "acled", [], None)
    assert as_pairs(frame)[0] == ("2023-12", 1)
    assert int(frame["count"].sum()) == 6


def test_weekly_bins_start_on_monday(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "2024-01-17"), acled_row("IRQ2", "2024-01-21"),
            acled_row("IRQ3", "2024-02-02")]
    path = write_rows(tmp_path / "weekly.csv", ACLED_COLUMNS, rows)
    frame = load_event_export(path, "acled", DEFAULT_PERPETRATORS, DEFAULT_TARGETS, freq="week")
    assert as_pairs(frame) == [("2024-01-15", 2), ("2024-01-22", 0), ("2024-01-29", 1)]


def test_acled_long_date_format(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "15 January 2024"), acled_row("IRQ2", "3 March 2024"),
            acled_row("IRQ3", "2024-01-30")]
    path = write_rows(tmp_path / "long_dates.csv", ACLED_COLUMNS, rows)
    frame = load_event_export(path, "acled", DEFAULT_PERPETRATORS, DEFAULT_TARGETS)
    assert as_pairs(frame) == [("2024-01", 2), ("2024-02", 0), ("2024-03", 1)]


def test_ucdp_dates_with_time_part_and_either_side(tmp_path: Path) -> None:
    us_gov = "Government of United States of America"
    rows = [
        ucdp_row("501", "2024-01-28 00:00:00.000", IRI, us_gov),
        ucdp_row("502", "2024-03-05 00:00:00.000", us_gov, "Kataib Hezbollah"),
        ucdp_row("503", "2024-02-14 00:00:00.000", "Government of Iraq", "IS"),
        ucdp_row("504", "2024-02-20 00:00:00.000", IRI, "Government of Iraq"),
    ]
    path = write_rows(tmp_path / "ged.csv", UCDP_COLUMNS, rows)
    frame = load_event_export(path, "ucdp", DEFAULT_PERPETRATORS, ["United States"])
    assert as_pairs(frame) == [("2024-01", 1), ("2024-02", 0), ("2024-03", 1)]


def test_dataset_matches_counts_csv(tmp_path: Path, acled_file: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("date,kind,name\n2024-02-01,us_strike,Baghdad strike\n", encoding="utf-8")
    dataset = export_to_dataset(acled_file, "acled", DEFAULT_PERPETRATORS, DEFAULT_TARGETS,
                                events=events)
    frame = load_event_export(acled_file, "acled", DEFAULT_PERPETRATORS, DEFAULT_TARGETS)
    counts_dir = tmp_path / "counts"
    counts_dir.mkdir()
    counts_csv = counts_dir / acled_file.name
    frame.assign(series="acled").to_csv(counts_csv, index=False)
    expected = load_counts(counts_csv, events=events)
    assert dataset.reference == "acled"
    assert dataset.name == expected.name
    assert dataset.axis == expected.axis
    assert dataset.presence is None
    assert dataset.files == (acled_file, events)
    assert list(dataset.events["name"]) == ["Baghdad strike"]
    assert dataset.content_hash() == expected.content_hash()


def test_weekly_dataset_matches_counts_csv(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "2024-01-17"), acled_row("IRQ2", "2024-02-02")]
    path = write_rows(tmp_path / "weekly.csv", ACLED_COLUMNS, rows)
    dataset = export_to_dataset(path, "acled", DEFAULT_PERPETRATORS, DEFAULT_TARGETS, freq="week")
    frame = load_event_export(path, "acled", DEFAULT_PERPETRATORS, DEFAULT_TARGETS, freq="week")
    counts_csv = tmp_path / "counts.csv"
    frame.assign(series="acled").to_csv(counts_csv, index=False)
    assert dataset.axis == load_counts(counts_csv).axis
    assert dataset.content_hash() == load_counts(counts_csv).content_hash()
    assert dataset.files == (path,)
    assert dataset.events.empty


def raises_input_error(path: Path, *fragments: str, **kwargs) -> None:
    with pytest.raises(InputError) as info:
        load_event_export(path, **kwargs)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message


ACLED_ARGS = {"layout": "acled", "perpetrators": DEFAULT_PERPETRATORS, "targets": DEFAULT_TARGETS}


def test_missing_required_column(tmp_path: Path) -> None:
    columns = [c for c in ACLED_COLUMNS if c != "actor2"]
    row = {k: v for k, v in acled_row("IRQ1", "2024-01-04").items() if k != "actor2"}
    path = write_rows(tmp_path / "no_actor2.csv", columns, [row])
    raises_input_error(path, "row 1", "'actor2'", **ACLED_ARGS)


def test_unparsable_date(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "2024-01-04"), acled_row("IRQ2", "04/01/2024")]
    path = write_rows(tmp_path / "bad_date.csv", ACLED_COLUMNS, rows)
    raises_input_error(path, "row 3", "column 'event_date'", "04/01/2024", **ACLED_ARGS)


def test_impossible_long_date(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "30 February 2024")]
    path = write_rows(tmp_path / "feb30.csv", ACLED_COLUMNS, rows)
    raises_input_error(path, "row 2", "column 'event_date'", "30 February 2024", **ACLED_ARGS)


def test_ucdp_bad_date(tmp_path: Path) -> None:
    rows = [ucdp_row("501", "2024-13-28 00:00:00.000", IRI, US)]
    path = write_rows(tmp_path / "ged_bad.csv", UCDP_COLUMNS, rows)
    raises_input_error(path, "row 2", "column 'date_start'", layout="ucdp", perpetrators=None,
                       targets=None)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    raises_input_error(path, "empty", **ACLED_ARGS)


def test_header_only(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "header_only.csv", ACLED_COLUMNS, [])
    raises_input_error(path, "no data rows", **ACLED_ARGS)


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "export_dir.csv"
    folder.mkdir()
    raises_input_error(folder, "directory", **ACLED_ARGS)


def test_non_utf8(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "latin1.csv", ACLED_COLUMNS, [acled_row("IRQ1", "2024-01-04")])
    path.write_bytes(path.read_bytes().replace(b"Ain al Asad Air Base", b"\xc9rbil"))
    raises_input_error(path, "UTF-8", **ACLED_ARGS)


def test_no_event_matches(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "2024-01-04", actor2=IRAQ)]
    path = write_rows(tmp_path / "no_match.csv", ACLED_COLUMNS, rows)
    raises_input_error(path, "no event matches", "'Islamic Resistance in Iraq'",
                       "'Military Forces of the United States'", "actor2", **ACLED_ARGS)


def test_repeated_event_id(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "2024-01-04"), acled_row("IRQ1", "2024-01-04")]
    path = write_rows(tmp_path / "pasted_twice.csv", ACLED_COLUMNS, rows)
    raises_input_error(path, "row 3", "column 'event_id_cnty'", "row 2", **ACLED_ARGS)


def test_control_characters_in_actor(tmp_path: Path) -> None:
    rows = [acled_row("IRQ1", "2024-01-04", actor1="Kataib\x07Hezbollah")]
    path = write_rows(tmp_path / "bell.csv", ACLED_COLUMNS, rows)
    raises_input_error(path, "row 2", "column 'actor1'", **ACLED_ARGS)


def test_unknown_layout_and_freq(acled_file: Path) -> None:
    raises_input_error(acled_file, "did you mean 'acled'", layout="acle", perpetrators=None,
                       targets=None)
    raises_input_error(acled_file, "did you mean 'month'", layout="acled", perpetrators=None,
                       targets=None, freq="months")
