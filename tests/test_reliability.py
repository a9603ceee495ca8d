"""No lost work, bounded refusals, hostile inputs (fuzzed with hypothesis)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.cli import main
from forecast.config import FitSettings
from forecast.core.priors import resolve_priors
from forecast.data.loaders import load_dataset, load_events, load_observations
from forecast.errors import InputError
from forecast.families import DEFAULT_FAMILY
from forecast.families import make_family as make_model
from forecast.families.latent_ar.graph import parameter_families
from forecast.fitting import _cache_dir, fit, fit_key
from tests.conftest import REPO, counts_csv

TINY = ["--draws", "40", "--tune", "40", "--chains", "2"]


@pytest.mark.parametrize("text, needle", [
    ("date,count\n2020-01,0\n2020-02,0\n2020-03,0\n2020-04,0\n", "every fitted observation is zero"),
    ("date,count\n2020-01,4\n", "only 1 observation"),
])
def test_unfittable_data_exits_3_quickly(write, tmp_path, capsys, text, needle):
    started = time.perf_counter()
    code = main(["fit", "--data", str(write("c.csv", text)), "--runs-root", str(tmp_path), *TINY])
    assert code == 3 and needle in capsys.readouterr().err
    assert time.perf_counter() - started < 10


def test_corrupted_cache_entry_is_refitted_with_a_warning(write, tmp_path):
    data = load_dataset(str(write("c.csv", counts_csv(months=20))))
    settings_ = FitSettings(draws=30, tune=30, chains=2, seed=3)
    cache = tmp_path / "cache"
    first = fit(data, settings=settings_, cache_root=cache, progress=False)
    entry = _cache_dir(cache, fit_key(make_model(DEFAULT_FAMILY, data, None), settings_))
    posterior = entry / "posterior.nc"
    posterior.write_bytes(posterior.read_bytes()[:500])  # truncate it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = fit(data, settings=settings_, cache_root=cache, progress=False)
    assert any("damaged" in str(w.message) and "moved to" in str(w.message) for w in caught)
    assert not second.reused
    assert first.idata.posterior["intercept"].equals(second.idata.posterior["intercept"])
    assert fit(data, settings=settings_, cache_root=cache, progress=False).reused  # repaired
    # the damaged entry was kept aside, not deleted
    (kept,) = (cache / "quarantine").iterdir()
    assert (kept / "posterior.nc").stat().st_size == 500


def test_an_intact_cache_entry_that_cannot_be_read_here_is_never_deleted(write, tmp_path, monkeypatch):
    """A broken environment (e.g. the netCDF reader failing to import) must not destroy a fit."""
    import arviz as az

    from forecast.errors import ForecastError

    data = load_dataset(str(write("c.csv", counts_csv(months=20))))
    settings_ = FitSettings(draws=30, tune=30, chains=2, seed=3)
    cache = tmp_path / "cache"
    fit(data, settings=settings_, cache_root=cache, progress=False)
    entry = _cache_dir(cache, fit_key(make_model(DEFAULT_FAMILY, data, None), settings_))
    before = _snapshot(entry)

    def broken(*args, **kwargs):
        raise ImportError("h5py failed to import")

    monkeypatch.setattr(az, "from_netcdf", broken)
    with pytest.raises(ForecastError, match="intact .* nothing was moved or deleted"):
        fit(data, settings=settings_, cache_root=cache, progress=False)
    assert _snapshot(entry) == before


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_killed_runs_leave_earlier_runs_intact_and_nothing_that_looks_complete(write, tmp_path):
    data = write("counts.csv", counts_csv(months=30))
    scenario = write("s.toml", 'name = "base"\n[horizon]\nmonths = 3\n')
    root = tmp_path / "runs"
    earlier = tmp_path / "earlier"
    base = ["run", str(scenario), "--data", str(data), *TINY, "--allow-unconverged", "--runs-root", str(root)]
    assert main([*base, "--out", str(earlier)]) == 0
    before = _snapshot(earlier)
    cmd = [sys.executable, "-m", "forecast.cli", *base[:-2], "--no-cache", "--runs-root", str(root)]
    for delay in (1.0, 4.0, 8.0, 15.0):
        target = tmp_path / f"killed-{delay}"
        proc = subprocess.Popen([*cmd, "--out", str(target)], cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # either the run finished completely, or no folder of that name exists
        if target.exists():
            manifest = json.loads((target / "manifest.json").read_text())
            assert manifest["kind"] == "run" and (target / "scenarios.nc").exists()
        visible = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
        for folder in visible:
            if folder.is_dir() and folder.name.startswith("killed"):
                assert (folder / "manifest.json").exists()
    assert _snapshot(earlier) == before


CELL = st.one_of(st.integers(-10**15, 10**15).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.text(max_size=12), st.sampled_from(["2020-01", "2020-01-15", "9999-99", "", "nan", "-1",
                                                         "1e308", "\x00", "2020-02-30", "1800-01"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(CELL, CELL, CELL), min_size=0, max_size=8),
       header=st.sampled_from(["date,count,presence", "date,count,series", "date,count,date", "x,y,z"]))
def test_fuzzed_counts_files_are_refused_cleanly_or_loaded(tmp_path, rows, header):
    path = tmp_path / "fuzz.csv"
    text = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    started = time.perf_counter()
    try:
        load_dataset(str(path))
    except InputError as exc:
        assert "fuzz.csv" in str(exc)
    assert time.perf_counter() - started < 5


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(CELL, CELL, CELL, st.sampled_from(["exact", "at_least", "approx", "x"]),
                               CELL, CELL), min_size=1, max_size=6))
def test_fuzzed_observation_files(tmp_path, rows):
    path = tmp_path / "obs.csv"
    body = "\n".join(f"{a},{b},{c},{d},{e},{f},dod,fit" for a, b, c, d, e, f in rows)
    path.write_bytes(("start,end,count,bound,lo,hi,definition,use\n" + body + "\n").encode("utf-8",
                                                                                          "surrogatepass"))
    try:
        load_observations(path)
    except InputError as exc:
        assert "obs.csv" in str(exc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(CELL, st.sampled_from(["decapitation", "us_strike", "coup", "", "\u202e"]),
                               CELL), min_size=1, max_size=6))
def test_fuzzed_event_files(tmp_path, rows):
    path = tmp_path / "events.csv"
    body = "\n".join(",".join(r) for r in rows)
    path.write_bytes(("date,kind,name\n" + body + "\n").encode("utf-8", "surrogatepass"))
    try:
        load_events(path)
    except InputError as exc:
        assert "events.csv" in str(exc)


VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20),
                   st.text(max_size=8), st.booleans(), st.lists(st.integers(), max_size=2))


def check_fuzzed_priors(tmp_path, families, default: str, name, dist, params) -> None:
    """A fuzzed one-table priors file either resolves or is refused naming the file."""
    import tomli_w

    try:
        text = tomli_w.dumps({name: {"dist": dist, **params}})
    except (TypeError, ValueError):
        return
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    try:
        resolve_priors(families, REPO / "forecast" / "families" / default / "priors.toml", path)
    except InputError as exc:
        assert "p.toml" in str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.sampled_from(list(parameter_families())), st.text(min_size=1, max_size=10)),
       dist=st.one_of(st.sampled_from(["Normal", "Beta", "HalfNormal", "Uniform", "Gamma"]),
                      st.text(max_size=8)),
       params=st.dictionaries(st.sampled_from(["mu", "sigma", "alpha", "beta", "lower", "upper", "nu", "x"]),
                              VALUES, max_size=4))
def test_fuzzed_priors_files(tmp_path, name, dist, params):
    check_fuzzed_priors(tmp_path, parameter_families(), "latent_ar", name, dist, params)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.sampled_from(["branching", "kernel_decay", "kernel_exponent", "overdispersion"]),
                      st.text(min_size=1, max_size=10)),
       dist=st.one_of(st.sampled_from(["Beta", "Gamma", "LogNormal", "Normal"]), st.text(max_size=8)),
       params=st.dictionaries(st.sampled_from(["mu", "sigma", "alpha", "beta", "x"]), VALUES, max_size=3))
def test_fuzzed_hawkes_priors_files(tmp_path, name, dist, params):
    from forecast.families.hawkes import graph as hawkes

    check_fuzzed_priors(tmp_path, hawkes.parameter_families(), "hawkes", name, dist, params)


def test_scenario_files_cannot_name_paths(write, capsys):
    path = write("s.toml", 'name = "x"\ndata = "../../etc/passwd"\n[horizon]\nmonths = 3\n')
    assert main(["validate", str(path)]) == 2
    assert "unknown key" in capsys.readouterr().err


def test_a_mass_matrix_the_sampler_cannot_use_is_refused_before_fitting(tmp_path, capsys):
    """--mass-matrix gradients is nutpie's; with PyMC's sampler it would be silently ignored."""
    code = main(["fit", "--sampler", "pymc", "--mass-matrix", "gradients", "--runs-root", str(tmp_path)])
    assert code == 2
    assert "--mass-matrix gradients needs --sampler nutpie" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    with pytest.raises(InputError, match="must be one of draws, gradients"):
        FitSettings(mass_matrix="dense").check()


def test_reproducers_of_the_hostile_review(write, tmp_path, capsys):
    """Each reproducer now fails cleanly (exit 2, a message, nothing written)."""
    data = write("c.csv", counts_csv(months=20))
    nested = "a = " + "[" * 5000 + "]" * 5000 + "\n"
    deep = write("deep.toml", "name = \"x\"\n[horizon]\nmonths = 3\n" + nested)
    assert main(["validate", str(deep), "--data", str(data)]) == 2
    assert "nested too deeply" in capsys.readouterr().err
    priors = write("p.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["validate", str(write("s.toml", 'name = "s"\n[horizon]\nmonths = 3\n')), "--data",
                 str(data), "--priors", str(priors)]) == 2
    assert "nested too deeply" in capsys.readouterr().err
    assert main(["fit", "--data", str(data), "--chains", "1", "--runs-root", str(tmp_path)]) == 2
    assert "--chains must be at least 2" in capsys.readouterr().err
    assert main(["run", str(write("t.toml", 'name = "t"\n[horizon]\nmonths = 3\n')), "--data", str(data),
                 "--models", ",", "--runs-root", str(tmp_path)]) == 2
    assert "names no model" in capsys.readouterr().err
    assert not any(tmp_path.glob("*-run*"))


def test_a_scenario_that_overflows_is_refused_before_anything_is_written(write):
    from forecast.families import make_family
    from forecast.scenarios.spec import parse_scenario
    from forecast.simulation import simulate_scenarios
    from tests.conftest import fake_posterior

    family = make_family("latent_ar", load_dataset(str(write("c.csv", counts_csv(months=24)))))
    text = ('name = "boom"\n[horizon]\nmonths = 6\n[[shocks]]\nparameter = "rate_multiplier"\n'
            'date = "2024-02-01"\nfactor = { lognormal = [2, 1000] }\n')
    with pytest.raises(InputError, match="overflowed"):
        simulate_scenarios(family, fake_posterior(family), [parse_scenario(text, "boom.toml")], seed=1)


def test_a_fit_that_loses_the_race_for_its_cache_entry_is_kept(write, tmp_path, monkeypatch):
    """Two processes fitting the same inputs: the second keeps its draws and uses them."""
    from forecast import runs

    data = load_dataset(str(write("c.csv", counts_csv(months=20))))
    settings_ = FitSettings(draws=30, tune=30, chains=2, seed=3)
    cache = tmp_path / "cache"
    entry = _cache_dir(cache, fit_key(make_model(DEFAULT_FAMILY, data, None), settings_))
    original = runs.staged_run

    def rival_first(final):
        if final == entry:       # the rival process finishes first, while this one writes
            entry.mkdir(parents=True)
            (entry / "marker").write_text("rival")
        return original(final)

    monkeypatch.setattr(runs, "staged_run", rival_first)
    result = fit(data, settings=settings_, cache_root=cache, progress=False)
    assert not result.reused and result.posterior_file is None
    assert result.idata.posterior["intercept"].size == 60
    assert (entry / "marker").read_text() == "rival"           # the rival's entry untouched
