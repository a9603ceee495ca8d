"""The sandbox the cases run in, the tampers, and the cases themselves.

Cases come from four sources: every option of every command (read from the parser) with
hostile values, tampered run folders and cache entries, paths and special files, and the
corpus (tests/fuzz_corpus.json) of reproducers, which grows whenever a bug is found.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import h5py

from forecast.cli import build_parser, main
from tests.conftest import counts_csv
from tests.fuzz.fake_sampler import fake_sampling
from tests.fuzz.harness import Case

CORPUS = Path(__file__).resolve().parents[1] / "fuzz_corpus.json"
LONG = "x" * 250
SCENARIO = 'name = "base"\n[horizon]\nmonths = 3\n'
SCENARIO2 = ('name = "cut"\nbaseline = "base"\n[horizon]\nmonths = 3\n'
             '[presence]\npoints = [{date = "2024-02", value = 1.0}]\n')
TINY = ("--draws", "30", "--tune", "10", "--chains", "2")
# a base command line per command that succeeds quickly (the sampler is faked)
BASES: dict[str, tuple[str, ...]] = {
    "run": ("s.toml", "--data", "data.csv", *TINY, "--allow-unconverged", "--no-report",
            "--runs-root", "runs"),
    "fit": ("--data", "data.csv", *TINY, "--allow-unconverged", "--runs-root", "runs"),
    "validate": ("s.toml", "--data", "data.csv"),
    "report": ("RUN",),
    "rerun": ("RUN", "--reuse-fit"),
    "compare": ("FIT", "FIT2"),
    "backtest": ("--data", "data.csv", "--serial", "--models", "zero,last_value", "--origins", "2",
                 "--horizon", "2", "--runs-root", "runs"),
    "data validate": ("data.csv",),
    "data show": ("data.csv",),
    "scenario new": ("fresh", "--out", "fresh.toml"),
    "scenario docs": (),
    "export": ("RUN", "--out", "export.csv"),
}
PATHS = ("", ".", "garbage", "/dev/zero", "fifo", "dangling", "afile/x", LONG, "rodir/x", "RUN", "../..")
# (no '1_000': int() reads it as 1000, a valid but long request such as --sbc 1000)
INTS = ("-1", "0", "1", "99999999999999999999999", "abc", "", "1.5", "1e3")
FLOATS = ("-1", "0", "nan", "inf", "2", "abc", "")
SEEDS = ("-1", "0", "4294967295", "4294967296", str(2**64), "abc")


def build_template(root: Path) -> Path:
    """Inputs, a fit run, a second fit, a scenario run and a cache entry (faked sampler)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.csv").write_text(counts_csv(months=24))
    (root / "events.csv").write_text("date,kind,name\n2022-06-10,decapitation,leader\n")
    (root / "s.toml").write_text(SCENARIO)
    (root / "s2.toml").write_text(SCENARIO2)
    (root / "priors.toml").write_text("[intercept]\ndist = \"Normal\"\nmu = 1.0\nsigma = 1.0\n")
    (root / "afile").write_text("a file, not a folder\n")
    (root / "dangling").symlink_to(root / "nowhere")
    (root / "zero").symlink_to("/dev/zero")
    old = os.getcwd()
    os.chdir(root)
    try:
        with fake_sampling():
            steps = [["fit", *BASES["fit"], "--seed", "7", "--no-cache", "--out", "FIT"],
                     ["fit", *BASES["fit"], "--seed", "8", "--no-cache", "--out", "FIT2"],
                     ["run", "s.toml", "s2.toml", "--data", "data.csv", *TINY, "--allow-unconverged",
                      "--no-report", "--runs-root", "runs", "--out", "RUN"],
                     ["fit", *BASES["fit"]]]     # the base fit, cached: `run` and `fit` reuse it
            for argv in steps:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    code = main(argv)
                if code != 0:
                    raise RuntimeError(f"building the fuzz template failed: {argv} exit {code}")
    finally:
        os.chdir(old)
    for extra in root.glob("runs/2*"):          # the base fit's own run folder: not needed
        shutil.rmtree(extra)
    return root


# ---- tampers: "TARGET:action[:argument]"; TARGET is RUN, FIT or CACHE --------------------

def prepare(sandbox: Path, tamper: str | None) -> None:
    """Special files every case may name (a FIFO cannot be copied), then the case's tamper."""
    os.mkfifo(sandbox / "fifo")
    (sandbox / "rodir").mkdir()
    (sandbox / "rodir").chmod(0o555)
    if tamper:
        apply_tamper(sandbox, tamper)


def _target(sandbox: Path, name: str) -> Path:
    if name == "CACHE":
        (entry,) = (sandbox / "runs" / ".cache" / "fits").iterdir()
        return entry
    if name == "SANDBOX":
        return sandbox
    return sandbox / name


def _edit(folder: Path, change, unseal: bool) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    if unseal:           # as a run of an earlier version, without seal or file hashes
        for key in ("manifest_sha256", "files_sha256", "posterior_sha256"):
            manifest.pop(key, None)
    change(manifest)
    path.write_text(json.dumps(manifest))


def _dotted(manifest: dict, key: str) -> tuple[dict, str]:
    *parents, last = key.split(".")
    for part in parents:
        manifest = manifest[part]
    return manifest, last


def apply_tamper(sandbox: Path, tamper: str) -> None:
    target_name, action, *rest = tamper.split(":", 2)
    arg = rest[0] if rest else ""
    folder = _target(sandbox, target_name)
    manifest = folder / "manifest.json"
    posterior = folder / "posterior.nc"
    unseal = action.startswith("old-")
    action = action.removeprefix("old-")
    if unseal and action not in ("drop", "set"):
        _edit(folder, lambda m: None, True)
    if action == "manifest":
        manifest.write_text(arg)
    elif action == "manifest-deep":
        manifest.write_text("[" * 100_000 + "]" * 100_000)
    elif action == "manifest-huge":
        manifest.write_text(" " * (20 * 2**20) + "{}")
    elif action == "manifest-bytes":
        manifest.write_bytes(b"\xff\xfe\x00{")
    elif action == "manifest-dir":
        manifest.unlink()
        manifest.mkdir()
    elif action == "manifest-fifo":
        manifest.unlink()
        os.mkfifo(manifest)
    elif action == "manifest-devzero":
        manifest.unlink()
        manifest.symlink_to("/dev/zero")
    elif action == "drop":
        _edit(folder, lambda m: _dotted(m, arg)[0].pop(_dotted(m, arg)[1]), unseal)
    elif action == "set":
        key, value = arg.split("=", 1)

        def change(m: dict) -> None:
            parent, last = _dotted(m, key)
            parent[last] = json.loads(value)
        _edit(folder, change, unseal)
    elif action == "unseal":
        pass
    elif action == "truncate":
        path = folder / arg
        path.write_bytes(path.read_bytes()[:300])
    elif action == "empty":
        (folder / arg).write_bytes(b"")
    elif action == "remove":
        (folder / arg).unlink()
    elif action == "fifo":
        (folder / arg).unlink()
        os.mkfifo(folder / arg)
    elif action == "swap":
        a, b = arg.split(",")
        other = sandbox / "RUN" / "scenarios.nc"
        if (folder / b).exists():
            (folder / a).rename(folder / "tmp-swap")
            (folder / b).rename(folder / a)
            (folder / "tmp-swap").rename(folder / b)
        else:
            shutil.copyfile(other, folder / a)
    elif action == "drop-var":
        with h5py.File(posterior, "a") as handle:
            del handle["posterior"][arg]
    elif action == "cache-file":
        fits = sandbox / "runs" / ".cache" / "fits"
        shutil.rmtree(fits)
        fits.write_text("not a folder\n")
    elif action == "chmod":
        folder.chmod(int(arg, 8))
    else:
        raise ValueError(f"unknown tamper {tamper!r}")


# ---- cases -------------------------------------------------------------------------------

def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name, child in sub.choices.items():
        nested = [a for a in child._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            out.update({f"{name} {n}": c for n, c in nested[0].choices.items()})
        else:
            out[name] = child
    return out


def _values(action: argparse.Action) -> tuple[str, ...]:
    if action.choices:
        return ("bogus", "", *list(action.choices)[:2])
    dest = action.dest
    if dest == "seed":
        return SEEDS
    if action.type is float:
        return FLOATS
    if action.type is not None and action.type is not str:
        return INTS + ("garbage", "2020-13", "tcp://nowhere.invalid:1")
    return PATHS


def _with_option(base: tuple[str, ...], flag: str, value: str | None) -> tuple[str, ...]:
    """The base command line with `flag` set to `value` (replacing the base's own value)."""
    argv = list(base)
    if flag in argv:
        i = argv.index(flag)
        takes = i + 1 < len(argv) and not argv[i + 1].startswith("--")
        del argv[i: i + (2 if takes else 1)]
    return tuple(argv + ([flag] if value is None else [flag, value]))


def option_cases() -> list[Case]:
    """Every option of every command with hostile values; every positional with hostile paths."""
    cases = [Case("forecast", ("--help",), expect=(0,)), Case("forecast", (), expect=(2,)),
             Case("forecast", ("bogus",), expect=(2,))]
    for command, parser in _commands(build_parser()).items():
        words = tuple(command.split())
        base = BASES[command]
        cases.append(Case(command, (*words, "--help"), expect=(0,)))
        cases.append(Case(command, (*words, *base)))
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.option_strings:          # positional: replace the base's first word
                for value in PATHS:
                    cases.append(Case(command, (*words, value, *base[1:])))
                continue
            flag = action.option_strings[-1]
            if action.nargs == 0:
                cases.append(Case(command, (*words, *_with_option(base, flag, None))))
                continue
            for value in _values(action):
                cases.append(Case(command, (*words, *_with_option(base, flag, value))))
    return cases


TAMPERS_OF_RUNS = [
    "manifest:[]", "manifest:null", "manifest:{}", "manifest:\"text\"", "manifest-deep:", "manifest-huge:",
    "manifest-bytes:", "manifest-dir:", "manifest-fifo:", "manifest-devzero:",
    "drop:data", "drop:diagnostics", "drop:diagnostics.passed", "drop:model", "drop:kind",
    "old-drop:data", "old-drop:diagnostics.passed", "old-drop:priors", "old-drop:fit_key",
    "set:diagnostics.passed=true", "old-set:diagnostics.passed=\"yes\"", "old-set:kind=\"backtest\"",
    "old-set:data={\"content_sha256\": 5}", "old-set:diagnostics.failures=null",
    "truncate:posterior.nc", "empty:posterior.nc", "remove:posterior.nc", "fifo:posterior.nc",
    "swap:posterior.nc,scenarios.nc", "old-swap:posterior.nc,scenarios.nc", "drop-var:sigma",
    "old-drop-var:sigma", "old-drop-var:u", "unseal:",
]
TAMPERS_OF_SCENARIO_RUNS = [
    "truncate:scenarios.nc", "remove:scenarios.nc", "old-drop:scenarios", "old-set:scenarios=\"s.toml\"",
    "old-set:scenarios=[\"s.toml\"]", "old-set:scenarios=[{\"name\": 1}]", "old-drop:config",
    "old-set:config={\"scenarios\": \"s.toml\"}", "old-set:config.data.data=\"/dev/zero\"",
    "old-set:config.data.data=\"fifo\"", "old-set:config.fit.chains=1", "old-set:config.fit.seed=-1",
    "old-set:config.scenarios=[\"fifo\"]", "old-set:config.priors=\"/dev/zero\"",
    "old-set:scenario_seed=\"x\"", "old-set:ensemble={\"lead_model\": \"latent_ar\"}",
]
USES = {
    "RUN": [("report", ("report", "RUN")), ("rerun", ("rerun", "RUN", "--reuse-fit")),
            ("run", ("run", "s.toml", "--data", "data.csv", "--fit", "RUN", "--allow-unconverged",
                     "--no-report")),
            ("compare", ("compare", "RUN", "FIT"))],
    "FIT": [("run", ("run", "s.toml", "--data", "data.csv", "--fit", "FIT", "--allow-unconverged",
                     "--no-report")),
            ("compare", ("compare", "FIT", "FIT2")), ("report", ("report", "FIT"))],
    "CACHE": [("fit", ("fit", *BASES["fit"])), ("run", ("run", *BASES["run"]))],
}


def tamper_cases() -> list[Case]:
    cases = []
    for target, uses in USES.items():
        tampers = TAMPERS_OF_RUNS + (TAMPERS_OF_SCENARIO_RUNS if target == "RUN" else [])
        for tamper in tampers:
            for command, argv in uses:
                cases.append(Case(command, argv, tamper=f"{target}:{tamper}"))
    return cases


def path_cases() -> list[Case]:
    refused = (2,)
    cases = []
    for special in ("/dev/zero", "fifo", "zero", "dangling", "afile/x", "rodir", LONG, "runs"):
        cases += [Case("data validate", ("data", "validate", special), expect=refused),
                  Case("validate", ("validate", special, "--data", "data.csv"), expect=refused),
                  Case("validate", ("validate", "s.toml", "--data", "data.csv", "--priors", special),
                       expect=refused),
                  Case("validate", ("validate", "s.toml", "--data", "data.csv", "--events", special),
                       expect=refused),
                  Case("report", ("report", special), expect=refused)]
    for out in ("dangling", "afile/x", "afile", LONG, "RUN", "data.csv"):
        cases += [Case("fit", ("fit", *BASES["fit"], "--out", out), expect=refused),
                  Case("run", ("run", *BASES["run"], "--out", out), expect=refused),
                  Case("report", ("report", "RUN", "--out", out), expect=refused),
                  Case("backtest", ("backtest", *BASES["backtest"], "--out", out), expect=refused)]
    for root in ("afile", "dangling/x", "data.csv"):
        cases.append(Case("fit", ("fit", *_with_option(BASES["fit"], "--runs-root", root)), expect=refused))
    cases += [Case("fit", ("fit", *BASES["fit"], "--seed", "3"), tamper="SANDBOX:cache-file", expect=refused),
              Case("run", ("run", *BASES["run"], "--seed", "3"), tamper="SANDBOX:cache-file", expect=refused),
              Case("report", ("report", "."), cwd="RUN", expect=(0, 2)),
              Case("rerun", ("rerun", ".", "--reuse-fit"), cwd="RUN", expect=(0, 2))]
    return cases


def corpus_cases() -> list[Case]:
    """The reproducers kept in tests/fuzz_corpus.json (one per bug found)."""
    records = json.loads(CORPUS.read_text())
    return [Case(r["command"], tuple(r["argv"]), tamper=r.get("tamper"),
                 expect=tuple(r["expect"]) if r.get("expect") is not None else None,
                 note=r.get("note", ""), cwd=r.get("cwd", "."), message=r.get("message", ""),
                 files=tuple((name, text) for name, text in r.get("files", {}).items()))
            for r in records]


def all_cases() -> list[Case]:
    return corpus_cases() + option_cases() + tamper_cases() + path_cases()
