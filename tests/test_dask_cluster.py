"""The backtest and an ensemble run on a Dask cluster started with Dask's own command-line tools.

A `dask scheduler` and two `dask worker` processes run on localhost from this interpreter's
environment, with this checkout first on PYTHONPATH (so the workers import the same code);
the commands' results must equal those of local processes, byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO, counts_csv, total_withdrawal

DASK = Path(sys.executable).parent / "dask"
STRETCH = "forecast/data/files/stretch_2023-11_2024-10.csv"
EVENTS = "forecast/data/files/events.csv"
TINY = ["--draws", "30", "--tune", "30", "--chains", "2"]


def _start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    # a session of its own, so that cleanup reaches the worker processes a nanny starts
    return subprocess.Popen([str(DASK), *args], cwd=log.parent, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _forecast_file() -> str:
    import forecast

    return forecast.__file__


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """The address of a scheduler with two single-threaded workers, all subprocesses."""
    assert DASK.exists(), f"{DASK} missing: the dask command comes with dask[distributed]"
    from distributed import Client

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                                     os.environ.get("PYTHONPATH")]))}
    info = tmp_path / "scheduler.json"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(info)], tmp_path / "scheduler.log", env)]
    try:
        deadline = time.monotonic() + 120
        while not info.exists() or not info.read_text().strip():
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start in 120 s"
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            (tmp_path / f"w{i}").mkdir()
            procs.append(_start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                 "--name", f"w{i}", "--local-directory", str(tmp_path / f"w{i}")],
                                tmp_path / f"w{i}" / "worker.log", env))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=180)
            files = set(client.run(_forecast_file).values())
        assert files == {str(REPO / "forecast" / "__init__.py")}, files   # the same code everywhere
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _same_files(a: Path, b: Path, names: list[str]) -> list[str]:
    return [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]


@pytest.mark.slow
def test_backtest_and_ensemble_on_a_dask_cli_cluster_equal_local_processes(dask_cluster, tmp_path,
                                                                           monkeypatch):
    from forecast.cli import main

    monkeypatch.chdir(REPO)
    data = tmp_path / "counts.csv"
    data.write_text(counts_csv(24, seed=3))
    backtest = ["backtest", "--data", str(data), "--models", "latent_ar,hist_mean", "--origins", "2",
                "--horizon", "2", "--seed", "7", *TINY]
    assert main([*backtest, "--workers", "2", "--out", str(tmp_path / "bt-local")]) == 0
    assert main([*backtest, "--scheduler", dask_cluster, "--out", str(tmp_path / "bt-dask")]) == 0
    local = pd.read_csv(tmp_path / "bt-local" / "backtest.csv").drop(columns="fit_seconds")
    dask = pd.read_csv(tmp_path / "bt-dask" / "backtest.csv").drop(columns="fit_seconds")
    assert set(local["model"]) == {"latent_ar", "hist_mean"} and local["origin"].nunique() == 2
    pd.testing.assert_frame_equal(local, dask)
    assert not _same_files(tmp_path / "bt-local", tmp_path / "bt-dask", ["summary.csv"])

    # an ensemble scenario run whose leave-future-out refits run on the cluster
    run = ["run", "scenarios/status_quo.toml", total_withdrawal(tmp_path), "--data", STRETCH, "--events",
           EVENTS, "--models", "latent_ar,hawkes", "--ensemble", "stacking", "--lfo-origins", "2",
           "--allow-unconverged", "--no-report", "--runs-root", str(tmp_path), *TINY]
    assert main([*run, "--workers", "2", "--out", str(tmp_path / "run-local")]) == 0
    assert main([*run, "--scheduler", dask_cluster, "--out", str(tmp_path / "run-dask")]) == 0
    differ = _same_files(tmp_path / "run-local", tmp_path / "run-dask",
                         ["weights.csv", "lfo_pointwise.csv", "summary.csv", "totals.csv", "contrasts.csv"])
    assert not differ, differ
