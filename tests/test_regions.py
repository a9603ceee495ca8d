"""Regions in the data: the bundled regions, region cover, user files (long and wide layouts)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecast.data.loaders import load_bundled, load_counts, load_dataset, load_observations
from forecast.data.presence import load_presence_wide
from forecast.data.regions import ALL, cover_matrix, parse_region_set
from forecast.data.simulate_regions import RegionTruth, presence_reference, simulate_regions
from forecast.errors import InputError
from forecast.evaluation.truncate import truncate
from tests.conftest import counts_csv

# ---------------------------------------------------------------- bundled


def test_bundled_data_have_three_regions_with_presence_and_the_total_unchanged():
    data = load_bundled()
    assert data.regions == ["iraq", "syria", "jordan"] and data.regional
    assert data.presence_by_region.shape == (data.axis.n, 3)
    iraq, syria, jordan = data.presence_by_region.T
    # the total the current model uses is still Iraq + Syria (the reference count's regions)
    np.testing.assert_allclose(data.presence, iraq + syria)
    assert (jordan >= 3.0).all()
    # Syria's unconfirmed exit: 0 from May 2026, with a range up to the ~1,000 of February
    may = data.axis.labels.index("2026-05")
    assert syria[may] == 0.0 and data.presence_high_by_region[may, 1] == 1.0
    low, high = data.presence_low_by_region, data.presence_high_by_region
    given = ~np.isnan(low)
    assert given.any() and (low[given] <= data.presence_by_region[given]).all()
    assert (data.presence_by_region[given] <= high[given]).all()


def test_bundled_observations_cover_known_regions():
    data = load_bundled()
    cover = data.region_cover(data.observations)
    assert cover.shape == (len(data.observations), 3) and set(np.unique(cover)) == {0.0, 1.0}
    assert (cover.sum(axis=1) >= 1).all()
    by_id = dict(zip(data.observations["id"], cover.tolist()))
    assert by_id["obs001"] == [1, 1, 0]          # the Pentagon count: Iraq + Syria
    assert by_id["obs003"] == [1, 0, 0]          # AFP: Iraq only
    # one fitted row counts Jordan: its part of the Pentagon's 2023-24 tally (Tower 22)
    jordan = data.fitted[data.region_cover()[:, 2] == 1]
    assert jordan[["definition", "count"]].values.tolist() == [["dod_tally_by_country", 1]]


def test_bundled_definitions_name_known_regions():
    data = load_bundled()
    table = pd.read_csv("forecast/data/files/definitions.csv")
    for cell in table["region"]:
        assert set(parse_region_set(cell, "definitions.csv", "x")) <= set(data.regions)
    # each fitted row counts no region its definition does not cover
    covers = dict(zip(table["definition"], table["region"]))
    for definition, region in zip(data.fitted["definition"], data.fitted["region"]):
        assert set(region.split("+")) <= set(covers[definition].split("+"))


def test_truncation_cuts_the_regional_presence():
    data = load_bundled()
    past = truncate(data, 60)
    assert past.presence_by_region.shape == (60, 3)
    np.testing.assert_array_equal(past.presence_by_region, data.presence_by_region[:60])


def test_dataset_without_regions_has_the_one_region_all(write):
    data = load_counts(write("counts.csv", counts_csv()))
    assert data.regions == [ALL] and not data.regional
    np.testing.assert_array_equal(data.presence_by_region[:, 0], data.presence)
    assert (data.region_cover() == 1).all()
    # the presence by region follows the total through replace()
    half = replace(data, presence=data.presence / 2)
    np.testing.assert_array_equal(half.presence_by_region[:, 0], half.presence)


def test_content_hash_of_data_without_regions_is_what_it_was_before_regions(write):
    # the hash this file had before regions existed: fits cached then are still found
    data = load_counts(write("counts.csv", counts_csv()))
    assert data.content_hash() == "7ee1ffeff5f64ce542e1d2666ac9cf7f381b8abb3a1bf04923b8593029571eb4"


def test_cover_matrix_reads_sets_and_empty_cells():
    cover = cover_matrix(["iraq", "iraq+syria", "", "syria"], ["iraq", "syria"])
    np.testing.assert_array_equal(cover, [[1, 0], [1, 1], [1, 1], [0, 1]])
    with pytest.raises(ValueError, match="irak"):
        cover_matrix(["irak"], ["iraq", "syria"])


# ---------------------------------------------------------------- observations file


OBS_HEADER = "start,end,count,bound,definition,region,use\n"


def test_unknown_region_in_observations_is_refused_with_did_you_mean(write):
    path = write("obs.csv", OBS_HEADER + "2020-01-01,2020-01-31,3,exact,dod,irak+syria,fit\n")
    with pytest.raises(InputError,
                       match="row 2, column 'region'.*unknown region 'irak'.*did you mean 'iraq'"):
        load_observations(path, ["iraq", "syria", "jordan"])


def test_bad_region_text_is_refused(write):
    path = write("obs.csv", OBS_HEADER + "2020-01-01,2020-01-31,3,exact,dod,iraq++syria,fit\n")
    with pytest.raises(InputError, match="row 2, column 'region'.*empty part"):
        load_observations(path)
    path = write("obs2.csv", OBS_HEADER + "2020-01-01,2020-01-31,3,exact,dod,iraq+iraq,fit\n")
    with pytest.raises(InputError, match="names a region twice"):
        load_observations(path)


def test_fitted_rows_may_share_days_in_disjoint_regions_only(write):
    ok = write("ok.csv", OBS_HEADER + "2020-01-01,2020-03-31,10,exact,dod,iraq,fit\n"
               "2020-02-01,2020-02-29,4,exact,dod,syria,fit\n")
    assert len(load_observations(ok)) == 2
    clash = write("clash.csv", OBS_HEADER + "2020-01-01,2020-03-31,10,exact,dod,iraq,fit\n"
                  "2020-02-01,2020-02-29,4,exact,dod,iraq+syria,fit\n")
    with pytest.raises(InputError,
                       match="row2 and row3 .*both cover 2020-02-01..2020-02-29 in a region both count"):
        load_observations(clash)
    # an empty region counts every region, so it clashes with any region on the same days
    everywhere = write("all.csv", OBS_HEADER + "2020-01-01,2020-03-31,10,exact,dod,,fit\n"
                       "2020-02-01,2020-02-29,4,exact,dod,syria,fit\n")
    with pytest.raises(InputError, match="both cover"):
        load_observations(everywhere)


def test_overlap_is_found_across_region_sets_after_a_long_row(write):
    # the clash is with an early long Iraq row, not with the Syria rows in between
    path = write("obs.csv", OBS_HEADER + "2020-01-01,2020-12-31,30,exact,dod,iraq,fit\n"
                 "2020-02-01,2020-02-29,1,exact,dod,syria,fit\n"
                 "2020-03-01,2020-03-31,1,exact,dod,syria,fit\n"
                 "2020-06-01,2020-06-30,2,exact,dod,iraq+syria,fit\n")
    with pytest.raises(InputError, match="fitted rows row2 and row5"):
        load_observations(path)


def test_observations_file_names_its_regions_without_presence(write):
    path = write("obs.csv", OBS_HEADER + "2020-01-01,2020-03-31,10,exact,dod,iraq,fit\n"
                 "2020-01-01,2020-03-31,4,exact,dod,syria,fit\n")
    data = load_dataset(str(path))
    assert data.regions == ["iraq", "syria"] and data.presence is None
    np.testing.assert_array_equal(data.region_cover(), [[1, 0], [0, 1]])


def test_observations_file_with_a_wide_presence_file(write):
    obs = write("obs.csv", OBS_HEADER + "2020-01-01,2020-03-31,10,exact,dod,iraq+syria,fit\n")
    presence = write("presence.csv", "month,iraq,syria\n2020-01,2.5,0.9\n2020-02,2.5,0.9\n"
                     "2020-03,2.0,1.0\n2020-04,1.5,1.0\n")
    data = load_dataset(str(obs), presence=presence)
    assert data.regions == ["iraq", "syria"] and data.axis.n == 4
    np.testing.assert_allclose(data.presence, [3.4, 3.4, 3.0, 2.5])
    bad = write("bad.csv", OBS_HEADER + "2020-01-01,2020-03-31,10,exact,dod,jordan,fit\n")
    with pytest.raises(InputError, match="bad.csv, row 2, column 'region': unknown region 'jordan'"):
        load_dataset(str(bad), presence=presence)


# ---------------------------------------------------------------- counts CSV: long layout


def long_csv(rows: list[tuple]) -> str:
    return "date,region,count,presence\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def test_long_layout_loads_counts_and_presence_per_region(write):
    rows = [("2021-01", "iraq", 3, 2.5), ("2021-01", "syria", 1, 0.9),
            ("2021-02", "iraq", 2, 2.0), ("2021-02", "syria", 0, 1.2),
            ("2021-03", "iraq", 0, 0), ("2021-03", "syria", 4, 1.5)]
    data = load_counts(write("long.csv", long_csv(rows)))
    assert data.regions == ["iraq", "syria"] and data.axis.n == 3
    np.testing.assert_allclose(data.presence_by_region, [[2.5, 0.9], [2.0, 1.2], [0.0, 1.5]])
    np.testing.assert_allclose(data.presence, [3.4, 3.2, 1.5])      # the total: their sum
    assert len(data.fitted) == 6 and set(data.fitted["definition"]) == {"counts"}
    cover = data.region_cover()
    assert cover.tolist() == [[1, 0]] * 3 + [[0, 1]] * 3
    assert list(data.fitted["id"][:2]) == ["counts:iraq:2021-01", "counts:iraq:2021-02"]


def test_long_layout_errors_name_file_row_and_expectation(write):
    missing = write("m.csv", long_csv([("2021-01", "iraq", 3, 2.5), ("2021-01", "syria", 1, 0.9),
                                       ("2021-02", "iraq", 2, 2.0)]))
    with pytest.raises(InputError, match="m.csv.*region 'syria' has no presence for 2021-02"):
        load_counts(missing)
    duplicate = write("d.csv", long_csv([("2021-01", "iraq", 3, 2.5), ("2021-01", "iraq", 1, 2.5)]))
    with pytest.raises(InputError, match="d.csv, row 3, column 'date'.*duplicate month 2021-01.*'iraq'"):
        load_counts(duplicate)
    shared = write("s.csv", long_csv([("2021-01", "iraq+syria", 3, 2.5)]))
    with pytest.raises(InputError, match="s.csv, row 2, column 'presence'.*belongs to one region"):
        load_counts(shared)
    nobody = write("z.csv", long_csv([("2021-01", "iraq", 3, 0), ("2021-01", "syria", 1, 0)]))
    with pytest.raises(InputError, match="presence is 0 in every region in 2021-01"):
        load_counts(nobody)
    bad_name = write("n.csv", long_csv([("2021-01", "north iraq", 3, 1.0)]))
    with pytest.raises(InputError, match="n.csv, row 2, column 'region'.*not a name"):
        load_counts(bad_name)


def test_attacks_counted_where_no_troops_are_refused(write):
    rows = [("2021-01", "iraq", 3, 2.5), ("2021-01", "syria", 2, 0), ("2021-02", "iraq", 2, 2.0),
            ("2021-02", "syria", 0, 0)]
    with pytest.raises(InputError,
                       match="row counts:syria:2021-01 counts at least 2 attack.*syria.*no troops"):
        load_counts(write("long.csv", long_csv(rows)))
    # a zero count where no troops are is what the model expects
    rows[1] = ("2021-01", "syria", 0, 0)
    data = load_counts(write("ok.csv", long_csv(rows)))
    assert data.presence_by_region[:, 1].sum() == 0


def test_counts_with_a_region_column_and_no_presence(write):
    text = "date,count,region\n2021-01,3,iraq\n2021-01,2,syria\n2021-02,7,iraq+syria\n"
    data = load_counts(write("c.csv", text))
    assert data.regions == ["iraq", "syria"] and data.presence is None
    assert data.region_cover().tolist() == [[1, 0], [0, 1], [1, 1]]
    clash = write("clash.csv", "date,count,region\n2021-01,3,iraq\n2021-01,5,iraq+syria\n")
    with pytest.raises(InputError, match="clash.csv.*both cover 2021-01-01..2021-01-31 in a region"):
        load_counts(clash)


def test_counts_with_a_wide_presence_file(write):
    counts = write("c.csv", "date,count,region\n2021-01,3,iraq\n2021-01,2,syria\n2021-02,1,iraq\n")
    presence = write("p.csv", "month,iraq,syria,jordan\n2021-01,2.5,0.9,3\n2021-02,2.5,0.9,3\n"
                     "2021-03,2.0,0.5,3\n")
    data = load_dataset(str(counts), presence=presence)
    assert data.regions == ["iraq", "syria", "jordan"] and data.axis.n == 3   # runs to the presence's end
    np.testing.assert_allclose(data.presence, [6.4, 6.4, 5.5])
    twice = write("t.csv", "date,count,presence\n2021-01,3,2.0\n")
    with pytest.raises(InputError, match="presence is given twice"):
        load_dataset(str(twice), presence=presence)
    with pytest.raises(InputError, match="bundled data have their own presence"):
        load_dataset("bundled", presence=presence)


# ---------------------------------------------------------------- wide presence file


def test_wide_presence_file_reads_regions_ranges_and_total(write):
    path = write("p.csv", "month,iraq,syria,iraq_low,iraq_high,basis\n"
                 "2025-01,2.5,1.0,,,stated\n2025-02,2.0,0.5,0.8,2.5,disputed\n")
    table = load_presence_wide(path)
    assert table.regions == ["iraq", "syria"]
    np.testing.assert_allclose(table.total, [3.5, 2.5])
    assert np.isnan(table.low[0, 0]) and table.low[1, 0] == 0.8 and table.high[1, 0] == 2.5
    assert np.isnan(table.low[:, 1]).all() and table.basis == ["stated", "disputed"]


@pytest.mark.parametrize(("text", "message"), [
    ("iraq,syria\n1,2\n", "missing column 'month'"),
    ("month,iraq\n2025-01,2\n2025-03,2\n", "row 3, column 'month'.*consecutively"),
    ("month,iraq,syria\n2025-01,2,\n", "row 2, column 'syria'.*no presence for region 'syria' in 2025-01"),
    ("month,iraq,syria\n2025-01,2,-1\n", "row 2, column 'syria'.*below the minimum"),
    ("month,iraq,jordan_low\n2025-01,2,1\n", "column 'jordan_low' bounds region 'jordan'"),
    ("month,iraq,iraq_low\n2025-01,2,3\n", "row 2.*range 3..nan of region 'iraq' does not contain"),
    ("month,points\n2025-01,2\n", "'points' cannot name a region"),
])
def test_wide_presence_file_errors(write, text, message):
    with pytest.raises(InputError, match=message):
        load_presence_wide(write("p.csv", text))


# ---------------------------------------------------------------- the simulator


def test_two_region_simulation_round_trips_through_the_long_layout(tmp_path):
    sim = simulate_regions(months=48, seed=3)
    data = load_counts(sim.write_csv(tmp_path / "two.csv"))
    assert data.regions == ["north", "south"] and data.axis.n == 48
    np.testing.assert_allclose(data.presence_by_region, sim.presence)
    # presence moves in opposite directions
    assert np.all(np.diff(sim.presence[:, 0]) < 0) and np.all(np.diff(sim.presence[:, 1]) > 0)
    np.testing.assert_allclose(presence_reference(data.presence_by_region), sim.reference)
    # the counts are the simulator's, in the right region
    north = data.fitted[data.fitted["region"] == "north"]["count"].to_numpy()
    np.testing.assert_array_equal(north, sim.frame[sim.frame["region"] == "north"]["count"])


def test_simulated_rate_follows_the_truth():
    truth = RegionTruth(level=2.0, offsets={"a": 0.3, "b": -0.3}, elasticity=1.0, ar_sd=0.01)
    sim = simulate_regions(months=24, truth=truth, seed=1)
    # at the reference presence the log rate is a + a_r (+ the small latent term)
    expected = (2.0 + np.array([0.3, -0.3])[None, :] + np.log(sim.presence / sim.reference)
                + sim.latent[:, None])
    np.testing.assert_allclose(sim.log_rate, expected)
    assert abs(sim.frame["count"].mean() - np.exp(sim.log_rate).mean()) < 1.5


def test_a_region_with_no_troops_has_no_attacks():
    presence = np.column_stack([np.r_[np.full(6, 2.0), np.zeros(6)], np.full(12, 1.0)])
    sim = simulate_regions(months=12, truth=RegionTruth(level=3.0), seed=0, presence=presence)
    counts = sim.frame.pivot(index="date", columns="region", values="count").to_numpy()
    assert (counts[6:, 0] == 0).all() and counts[:6, 0].sum() > 0
    assert np.isneginf(sim.log_rate[6:, 0]).all()
