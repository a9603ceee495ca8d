"""`forecast export --format hubverse`: the long table reads back with pandas, carries the hub
columns, monotone quantiles per task, and sample ids that are the same draws everywhere."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.cli import main
from forecast.scenarios.hubverse import COLUMNS, DEFAULT_QUANTILES, hubverse_table
from forecast.scenarios.spec import load_scenarios
from forecast.simulation import simulate_scenarios
from tests.test_report import setup  # noqa: F401  (fixture)

TASK = ["origin_date", "scenario_id", "target", "horizon", "target_end_date", "location"]


@pytest.fixture
def run_dir(setup, tmp_path):  # noqa: F811
    model, idata, base, cut, _ = setup
    draws = simulate_scenarios(model, idata.posterior, load_scenarios([base, cut]), seed=1)
    folder = tmp_path / "run"
    folder.mkdir()
    draws.to_netcdf(folder / "scenarios.nc", engine="h5netcdf")
    (folder / "manifest.json").write_text(json.dumps({"kind": "run"}))
    return folder, draws


def check_table(table: pd.DataFrame, draws: xr.Dataset, levels: list[float], samples: int) -> None:
    assert list(table.columns) == COLUMNS
    assert set(table["output_type"]) == {"quantile", "sample"}
    assert set(table["scenario_id"]) == set(map(str, draws["scenario"].values))
    assert set(table["location"]) == {"total"} and set(table["target"]) == {"inc attacks"}
    months = draws.sizes["month"]
    assert sorted(table["horizon"].unique()) == list(range(1, months + 1))
    assert table["origin_date"].nunique() == 1
    quant = table[table["output_type"] == "quantile"]
    quant = quant.assign(level=quant["output_type_id"].astype(float))
    assert sorted(quant["level"].unique()) == sorted(levels)
    for _, task in quant.groupby(TASK):
        task = task.sort_values("level")
        assert len(task) == len(levels)
        assert np.all(np.diff(task["value"].to_numpy()) >= 0), task          # monotone in the level
    sample = table[table["output_type"] == "sample"]
    per_task = sample.groupby(TASK)["output_type_id"].apply(lambda ids: tuple(sorted(ids)))
    assert per_task.nunique() == 1 and len(per_task.iloc[0]) == samples      # the same ids in every task
    # a sample id is one posterior draw: its month-1 value is that draw's count in every scenario
    for scenario in draws["scenario"].values:
        one = sample[(sample["scenario_id"] == scenario) & (sample["horizon"] == 1)]
        ids = one["output_type_id"].astype(int).to_numpy()
        expected = draws["count"].sel(scenario=scenario).values[ids, 0]
        assert np.array_equal(one["value"].to_numpy(), expected)


def test_export_csv_reads_back(run_dir, capsys):
    folder, draws = run_dir
    out = folder.parent / "hub.csv"
    assert main(["export", str(folder), "--format", "hubverse", "--quantiles", "0.5,0.025,0.975,0.1,0.9",
                 "--samples", "20", "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype={"output_type_id": str})
    check_table(table, draws, [0.025, 0.1, 0.5, 0.9, 0.975], 20)
    assert "wrote" in capsys.readouterr().out
    # never over an existing file; bad levels are refused before writing
    assert main(["export", str(folder), "--out", str(out)]) == 2
    assert main(["export", str(folder), "--quantiles", "0.5,1.5", "--out", str(folder.parent / "x.csv")]) == 2
    assert not (folder.parent / "x.csv").exists()


def test_export_parquet_and_default_quantiles(run_dir):
    pytest.importorskip("pyarrow")
    folder, draws = run_dir
    out = folder.parent / "hub.parquet"
    assert main(["export", str(folder), "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert table["output_type_id"].map(type).eq(str).all()          # one type per column
    check_table(table, draws, [float(q) for q in DEFAULT_QUANTILES], 100)
    assert table.loc[table["output_type"] == "quantile", "output_type_id"].nunique() == 23


def test_regions_give_one_location_each_and_a_total(run_dir):
    _, draws = run_dir
    split = xr.concat([draws["count"] // 2, draws["count"] - draws["count"] // 2],
                      dim=pd.Index(["iraq", "syria"], name="region"))
    table = hubverse_table(draws.assign(count=split), quantiles=(0.5,), samples=3)
    assert set(table["location"]) == {"iraq", "syria", "total"}
    sample = table[table["output_type"] == "sample"].set_index(TASK[:-1] + ["output_type_id", "location"])
    total = sample.xs("total", level="location")["value"]
    parts = sample.xs("iraq", level="location")["value"] + sample.xs("syria", level="location")["value"]
    assert np.array_equal(total.sort_index().to_numpy(), parts.sort_index().to_numpy())


def test_export_refuses_a_folder_that_is_not_a_scenario_run(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "fit"}))
    assert main(["export", str(tmp_path)]) == 2
    assert "not a scenario run" in capsys.readouterr().err
