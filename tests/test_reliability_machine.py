"""What the machine does to a run: full disks, signals, rivals, interrupted samplers, big files."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast import runs
from forecast.cli import main
from forecast.config import FitSettings
from forecast.data.loaders import load_dataset
from forecast.errors import InputError
from forecast.families.base import Family
from forecast.fitting import SamplingStopped, fit
from tests.conftest import REPO, counts_csv
from tests.fuzz.fake_sampler import fake_fit, fake_sampling

TINY = ["--draws", "30", "--tune", "10", "--chains", "2"]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".partial-" in p.name]


# ---- disk full ------------------------------------------------------------------------------

def test_a_full_disk_while_writing_gives_a_clear_error_no_partial_run_and_an_untouched_cache(
        write, tmp_path, monkeypatch, capsys):
    import arviz as az

    data = write("c.csv", counts_csv(months=20))
    scenario = write("s.toml", 'name = "base"\n[horizon]\nmonths = 3\n')
    root = tmp_path / "runs"
    base = ["run", str(scenario), "--data", str(data), *TINY, "--allow-unconverged", "--no-report",
            "--runs-root", str(root)]
    with fake_sampling():
        assert main([*base, "--out", str(tmp_path / "first")]) == 0      # fills the cache
        cache = _tree(root / ".cache")

        def full(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(az.InferenceData, "to_netcdf", full)
        monkeypatch.setattr("shutil.copyfile", lambda *a, **k: full(None))
        assert main([*base, "--out", str(tmp_path / "second")]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "no partial run" in err
    assert "Traceback" not in err
    assert not (tmp_path / "second").exists() and not _staging(tmp_path)
    assert _tree(root / ".cache") == cache


def test_a_full_disk_while_caching_a_new_fit_leaves_no_cache_entry(write, tmp_path, monkeypatch):
    import arviz as az

    data = load_dataset(str(write("c.csv", counts_csv(months=20))))

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(az.InferenceData, "to_netcdf", full)
    with fake_sampling(), pytest.raises(runs.WriteFailed, match="No space left"):
        fit(data, settings=FitSettings(draws=30, tune=10, chains=2), cache_root=tmp_path / "cache",
            progress=False)
    assert not list((tmp_path / "cache" / "fits").iterdir())


def test_a_small_tmpfs_fills_up_cleanly(write, tmp_path):
    """A real full disk where the machine lets us mount a 3 MB tmpfs (else skipped; the
    simulated ENOSPC above always runs)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + mounted.stderr.decode()[:100])
    try:
        (disk / "filler").write_bytes(b"\0" * (2 * 2**20))
        data = write("c.csv", counts_csv(months=20))
        code = subprocess.run([sys.executable, "-m", "forecast.cli", "fit", "--data", str(data), *TINY,
                               "--allow-unconverged", "--runs-root", str(disk / "runs")],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert code.returncode == 2 and "MiB free" in code.stderr and "Traceback" not in code.stderr
        assert not any((disk / "runs").rglob("*.nc"))
        # a real ENOSPC while a run is written: a clear error, nothing staged left behind
        with pytest.raises(runs.WriteFailed, match="No space left"):
            with runs.staged_run(disk / "runs" / "full") as stage:
                (stage.dir / "posterior.nc").write_bytes(b"\0" * (2 * 2**20))
        assert not (disk / "runs" / "full").exists() and not _staging(disk)
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_too_little_free_space_is_refused_before_any_work(tmp_path, monkeypatch):
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda path: usage(10**9, 10**9 - 2**20, 2**20))
    with pytest.raises(InputError, match="only 1 MiB free"):
        runs.check_output(tmp_path / "new")


# ---- names, rivals and stale staging --------------------------------------------------------

RIVAL = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from forecast import runs
    root, go = Path(sys.argv[1]), Path(sys.argv[2])
    with runs.staged_run(runs.AutoName(root / "20260101-000000-run")) as stage:
        (stage.dir / "manifest.json").write_text("{}")
        while not go.exists():
            time.sleep(0.05)
    print(stage.final.name)
""")


def test_two_runs_started_in_the_same_second_both_land_under_their_own_names(tmp_path):
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", RIVAL, str(tmp_path / "runs"), str(go)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    while len(_staging(tmp_path)) < 2:          # both are writing under the same name
        time.sleep(0.05)
    go.touch()
    names = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert [p.returncode for p in procs] == [0, 0]
    assert names == ["20260101-000000-run", "20260101-000000-run-2"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == names


def test_a_name_the_user_gave_is_never_moved(tmp_path):
    final = tmp_path / "mine"
    with pytest.raises(runs.AlreadyThere):
        with runs.staged_run(final) as stage:
            (stage.dir / "x").write_text("new")
            final.mkdir()
            (final / "rival").write_text("theirs")
    assert (final / "rival").read_text() == "theirs" and not _staging(tmp_path)


def test_stale_staging_folders_of_dead_processes_are_cleaned_on_the_next_run(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".20260101-000000-run.partial-{dead}"
    alive = tmp_path / f".20260101-000001-run.partial-{os.getppid()}"
    for folder in (stale, alive):
        folder.mkdir()
        (folder / "posterior.nc").write_bytes(b"\0" * 1000)
    with runs.staged_run(tmp_path / "new") as stage:
        (stage.dir / "manifest.json").write_text("{}")
    assert not stale.exists() and alive.exists() and (tmp_path / "new").exists()


# ---- signals and interrupted samplers -------------------------------------------------------

SLOW_WRITE = textwrap.dedent("""
    import sys, time
    from forecast import runs
    from forecast.cli import main
    from tests.fuzz.fake_sampler import fake_sampling
    original = runs.write_json
    def slow(path, data, **kwargs):
        print("writing", flush=True)
        time.sleep(60)
        original(path, data, **kwargs)
    runs.write_json = slow
    with fake_sampling():
        sys.exit(main(sys.argv[1:]))
""")


def test_sigterm_is_handled_like_ctrl_c(write, tmp_path):
    data = write("c.csv", counts_csv(months=20))
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, "fit", "--data", str(data), *TINY,
                             "--allow-unconverged", "--no-cache", "--out", str(out)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while proc.stdout.readline().strip() != "writing":       # until it writes in its staging folder
        assert proc.poll() is None
    assert _staging(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    assert not out.exists() and not _staging(tmp_path)


def _partial(reason: str):
    def sample(self: Family, **kwargs):
        idata = fake_fit(self, **kwargs)
        if reason == "nan":
            idata.posterior["intercept"][:, -5:] = np.nan
        elif reason == "short":
            idata.posterior = idata.posterior.isel(draw=slice(0, 7))
        else:
            raise KeyboardInterrupt
        return idata
    return sample


@pytest.mark.parametrize("reason", ["nan", "short", "interrupt"])
def test_an_interrupted_sampler_is_never_cached(write, tmp_path, monkeypatch, capsys, reason):
    data = write("c.csv", counts_csv(months=20))
    monkeypatch.setattr(Family, "fit", _partial(reason))
    root = tmp_path / "runs"
    code = main(["fit", "--data", str(data), *TINY, "--allow-unconverged", "--runs-root", str(root)])
    err = capsys.readouterr().err
    assert code == 130
    assert ("sampling stopped before it finished" in err) if reason != "interrupt" else "interrupted" in err
    assert not any(root.rglob("*.nc")) and not _staging(tmp_path)
    if reason == "nan":
        with pytest.raises(SamplingStopped, match="missing"):
            fit(load_dataset(str(data)), settings=FitSettings(draws=30, tune=10, chains=2),
                cache_root=root / ".cache", progress=False)


# ---- big inputs -----------------------------------------------------------------------------

def test_a_100000_row_csv_loads_in_seconds(tmp_path):
    """observations_from_bins formatted every label inside its loop (a 100,000-row file did
    not load in 15 minutes); now each step is one pass."""
    dates = pd.period_range("1950-01", periods=2000, freq="M").astype(str)
    rng = np.random.default_rng(0)
    rows = [f"{d},{c},s{s}" for s in range(50) for d, c in zip(dates, rng.integers(0, 9, len(dates)))]
    path = tmp_path / "big.csv"
    path.write_text("date,count,series\n" + "\n".join(rows) + "\n")
    started = time.perf_counter()
    dataset = load_dataset(str(path))
    assert len(dataset.observations) == 100_000
    assert time.perf_counter() - started < 30


def test_observation_rows_from_bins_are_unchanged(write):
    """The column-wise builder gives the rows (and so the content hash, the cache key) as before."""
    text = "date,count,published\n2022-01,3,\n2022-02,,\n2022-03,5,2022-05-02\n"
    dataset = load_dataset(str(write("c.csv", text)))
    obs = dataset.observations
    assert list(obs["id"]) == ["counts:2022-01", "counts:2022-03"]
    assert list(obs["published"].dt.strftime("%Y-%m-%d")) == ["2022-01-31", "2022-05-02"]
    assert obs["count"].dtype == np.int64 and obs["hi"].dtype == float
    assert dataset.content_hash() == HASH_BEFORE


# the content hash of the dataset above, computed with the row-by-row builder it replaced
HASH_BEFORE = "cccc80f2eebf56dd5e647c32461353c191bc9335d780e2b8a1582cf4ea8a4278"


# ---- concurrency ----------------------------------------------------------------------------

@pytest.mark.slow
def test_two_runs_and_two_fits_at_once_on_one_cache(write, tmp_path):
    data = write("c.csv", counts_csv(months=20))
    scenario = write("s.toml", 'name = "base"\n[horizon]\nmonths = 3\n')
    root = tmp_path / "runs"
    common = ["--data", str(data), *TINY, "--allow-unconverged", "--runs-root", str(root)]
    run = ["run", str(scenario), *common, "--no-report"]
    commands = [run, run, ["fit", *common], ["fit", *common]]
    procs = [subprocess.Popen([sys.executable, "-m", "forecast.cli", *c], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for c in commands]
    outputs = [p.communicate(timeout=900) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-2000:]
        assert "Traceback" not in err
    made = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    assert len(made) == 4                                  # four runs, four names
    for folder in made:
        manifest = runs.load_run(folder)
        assert manifest["kind"] in ("run", "fit")
    entries = list((root / ".cache" / "fits").iterdir())
    assert len(entries) == 1 and runs.load_run(entries[0], kinds=("fit",))
    assert not _staging(tmp_path)
    assert not json.loads((made[0] / "manifest.json").read_text()).get("error")
