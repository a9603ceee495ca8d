"""One command for the whole benchmark: fit speed and quality against the two PyMC peers,
agreement of the posteriors, scenario throughput, and the end-to-end `forecast run`.

    python benchmarks/run_benchmarks.py [--quick] [--out DIR] [--skip STAGE ...]
        [--default-priors] [--report-only DIR]

Every contender runs in its own child process; its wall time is measured around the
child by this script or inside the child (see each worker's docstring), and its peak
memory is the child's ru_maxrss from os.wait4 (the largest resident set of the child
and of any process it waited for, e.g. PyMC's sampler workers). Stages, in this order:

  data        ../shared/bench/make_bench_data.py writes the data into a temp dir
  careful     ../shared/bench/careful_pymc.py (numpyro), its printed line parsed
  agreement   benchmarks/careful_agreement.py: the careful model again, in-process,
              for posterior means/sds and tail ESS
  engine      benchmarks/engine_fit.py with benchmarks/bench_priors.toml (main row); it
              uses the machine's compile caches, warm if the engine ran here before
  engine-cold-cache  the same fit with empty PyTensor and numba compile caches (what the
              first fit on a fresh machine pays)
  engine-default  the same with forecast/families/latent_ar/priors.toml (only with --default-priors)
  scenarios   benchmarks/scenario_throughput.py on the main engine fit's posterior
  e2e         `forecast run scenarios/*.toml`: cold with empty compile caches, cold (no
              cached fit; the machine's compile caches), then warm (cached fit)
  naive       ../shared/bench/naive_pymc.py (last: its run time is the least predictable)

Each stage writes OUT/<stage>.json; `--report-only OUT` prints the tables again from
those files. --quick: a short data set and tiny draws, to check the script works (its
numbers mean nothing; the two peer scripts, which take no --draws, are skipped).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BENCH_DIR = (REPO / ".." / "shared" / "bench").resolve()
PY = sys.executable
FORECAST = str(Path(PY).with_name("forecast"))
STAGES = ("data", "careful", "agreement", "engine", "engine-cold-cache", "engine-default", "scenarios", "e2e",
          "naive")


def empty_compile_caches(out: Path, name: str) -> dict:
    """Environment for a child whose PyTensor (numba and C) and numba caches start empty."""
    root = Path(tempfile.mkdtemp(prefix=f"{name}-caches-", dir=out))
    return {"PYTENSOR_FLAGS": f"base_compiledir={root / 'pytensor'}", "NUMBA_CACHE_DIR": str(root / "numba")}
LINE_RE = re.compile(r"^(\S+) wall_s=(\S+) min_ess_bulk=(\S+) ess_per_s=(\S+) max_rhat=(\S+) "
                     r"divergences=(\S+)\s*$")


def log(msg: str) -> None:
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"[{time.strftime('%H:%M:%S')} load {load}] {msg}", flush=True)


def run_child(cmd: list[str], cwd: Path, log_file: Path, env: dict | None = None) -> dict:
    """Run cmd; return exit code, wall seconds around the child, its peak RSS and stdout."""
    started = time.perf_counter()
    with open(log_file, "w") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True,
                                env={**os.environ, **(env or {})})
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux
    return {"rc": proc.returncode, "child_wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024,
            "stdout": stdout, "log": str(log_file)}


def stage_done(out: Path, name: str, payload: dict) -> dict:
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2, default=float))
    return payload


def parse_peer(stdout: str) -> dict:
    for line in stdout.splitlines()[::-1]:
        m = LINE_RE.match(line.strip())
        if m:
            name, wall, ess, eps, rhat, div = m.groups()
            return {"name": name, "wall_s": float(wall), "min_ess_bulk": float(ess),
                    "ess_per_s": float(eps), "max_rhat": float(rhat), "divergences": int(div)}
    raise RuntimeError(f"no result line in the peer's output:\n{stdout[-2000:]}")


# --------------------------------------------------------------------------- stages
def run_peer(script: str, data: Path, out: Path, stage: str) -> dict:
    log(f"{stage}: {script} (cwd {BENCH_DIR})")
    res = run_child([PY, script, str(data)], BENCH_DIR, out / f"{stage}.log")
    if res["rc"] != 0:
        raise RuntimeError(f"{script} exited {res['rc']}; see {res['log']}")
    payload = {**parse_peer(res["stdout"]), "peak_rss_mib": res["peak_rss_mib"],
               "process_wall_s": res["child_wall_s"], "line": res["stdout"].strip().splitlines()[-1]}
    log(f"{stage}: {payload['line']}  peak {payload['peak_rss_mib']:.0f} MiB")
    return stage_done(out, stage, payload)


def run_result_script(stage: str, what: str, cmd: list[str], out: Path, result: Path,
                      env: dict | None = None) -> tuple[dict, dict]:
    """Run a benchmark script that writes its numbers to `result` (JSON); (payload, child info)."""
    res = run_child(cmd, REPO, out / f"{stage}.log", env)
    if res["rc"] != 0:
        raise RuntimeError(f"{what} exited {res['rc']}; see {res['log']}")
    return {**json.loads(result.read_text()), "peak_rss_mib": res["peak_rss_mib"]}, res


def run_engine(data: Path, out: Path, stage: str, priors: str | None, quick: bool,
               env: dict | None = None) -> dict:
    result = out / f"{stage}-result.json"
    cmd = [PY, str(HERE / "engine_fit.py"), str(data), "--out", str(result)]
    if priors:
        cmd += ["--priors", priors]
    if stage == "engine":
        cmd += ["--posterior", str(out / "engine-posterior.nc")]
    if quick:
        cmd += ["--draws", "100", "--tune", "100", "--chains", "2"]
    log(f"{stage}: engine fit, priors {priors or 'forecast/families/latent_ar/priors.toml'}")
    payload, res = run_result_script(stage, "engine fit", cmd, out, result, env)
    payload["process_wall_s"] = res["child_wall_s"]
    log(f"{stage}: {res['stdout'].strip()}  peak {payload['peak_rss_mib']:.0f} MiB")
    return stage_done(out, stage, payload)


def run_agreement(data: Path, out: Path, quick: bool) -> dict:
    result = out / "agreement-result.json"
    cmd = [PY, str(HERE / "careful_agreement.py"), str(data), "--out", str(result)]
    if quick:
        cmd += ["--draws", "100", "--tune", "100", "--chains", "2"]
    log("agreement: careful model in-process (numpyro)")
    payload, res = run_result_script("agreement", "careful_agreement", cmd, out, result)
    log(f"agreement: {res['stdout'].strip()}")
    return stage_done(out, "agreement", payload)


def run_scenarios(data: Path, out: Path, priors: str) -> dict:
    result = out / "scenarios-result.json"
    cmd = [PY, str(HERE / "scenario_throughput.py"), str(data), str(out / "engine-posterior.nc"),
           "--out", str(result), "--priors", priors]
    log("scenarios: engine simulate_scenarios vs pm.sample_posterior_predictive")
    payload, res = run_result_script("scenarios", "scenario_throughput", cmd, out, result)
    log(f"scenarios: {res['stdout'].strip()}")
    return stage_done(out, "scenarios", payload)


def run_e2e(out: Path, quick: bool) -> dict:
    scenario_files = sorted(glob.glob(str(REPO / "scenarios" / "*.toml")))
    runs_root = Path(tempfile.mkdtemp(prefix="e2e-runs-", dir=out))
    cmd = [FORECAST, "run", *[os.path.relpath(f, REPO) for f in scenario_files],
           "--runs-root", str(runs_root)]
    if quick:
        cmd += ["--draws", "100", "--tune", "100", "--chains", "2", "--allow-unconverged"]
    payload: dict = {"command": " ".join(cmd[1:]), "scenarios": len(scenario_files)}
    fresh_root = Path(tempfile.mkdtemp(prefix="e2e-runs-fresh-", dir=out))
    fresh_cmd = [*cmd[:cmd.index("--runs-root") + 1], str(fresh_root), *cmd[cmd.index("--runs-root") + 2:]]
    phases = [("cold-empty-caches", fresh_cmd, empty_compile_caches(out, "e2e")), ("cold", cmd, None),
              ("warm", cmd, None)]
    for phase, phase_cmd, env in phases:
        log(f"e2e: forecast run, {phase} (runs root {phase_cmd[phase_cmd.index('--runs-root') + 1]})")
        res = run_child(phase_cmd, REPO, out / f"e2e-{phase}.log", env)
        if res["rc"] != 0:
            raise RuntimeError(f"forecast run ({phase}) exited {res['rc']}; see {res['log']}")
        payload[phase] = {"wall_s": res["child_wall_s"], "peak_rss_mib": res["peak_rss_mib"],
                          "stdout": res["stdout"].strip()}
        log(f"e2e {phase}: {res['child_wall_s']:.1f} s, peak {res['peak_rss_mib']:.0f} MiB")
    shutil.rmtree(runs_root, ignore_errors=True)
    shutil.rmtree(fresh_root, ignore_errors=True)
    return stage_done(out, "e2e", payload)


# --------------------------------------------------------------------------- report
def fmt(value, spec: str = ".1f") -> str:
    if value is None:
        return "n/a"
    return format(value, spec)


def fit_rows(results: dict) -> list[dict]:
    rows = []
    # the peer scripts leave chains to PyMC: max(2, cores) with cores = min(4, cpu count)
    peer_chains = max(2, min(4, results.get("meta", {}).get("cpus") or 2))
    for stage, label in (("engine", "engine (bench_priors)"),
                         ("engine-cold-cache", "engine (bench_priors, empty caches)"),
                         ("engine-default", "engine (default priors)")):
        e = results.get(stage)
        if not e:
            continue
        rows.append({
            "label": label, "chains": e["settings"]["chains"], "wall": e["sample_incl_compile_s"],
            "wall_excl": e["sample_excl_compile_s"],
            "fit_total": e["fit_total_s"], "ess_bulk": e["min_ess_bulk"], "ess_tail": e["min_ess_tail"],
            "rhat": e["max_rhat"], "div": e["divergences"], "mem": e["peak_rss_mib"],
        })
    for stage in ("naive", "careful"):
        p = results.get(stage)
        if not p:
            continue
        # the peers' own line has no tail ESS; the agreement rerun gives the careful model's
        rows.append({"label": p["name"], "chains": peer_chains, "wall": p["wall_s"], "wall_excl": None,
                     "fit_total": None,
                     "ess_bulk": p["min_ess_bulk"], "ess_tail": None, "rhat": p["max_rhat"],
                     "div": p["divergences"], "mem": p["peak_rss_mib"]})
    a = results.get("agreement")
    if a:
        rows.append({"label": "careful-numpyro (agreement rerun)", "chains": a.get("chains", 4),
                     "wall": a["wall_s"], "wall_excl": None,
                     "fit_total": None, "ess_bulk": a["min_ess_bulk"], "ess_tail": a["min_ess_tail"],
                     "rhat": a["max_rhat"], "div": a["divergences"], "mem": a["peak_rss_mib"]})
    for r in rows:
        r["eps"] = r["ess_bulk"] / r["wall"] if r["wall"] else None
        r["eps_excl"] = r["ess_bulk"] / r["wall_excl"] if r["wall_excl"] else None
        r["eps_total"] = r["ess_bulk"] / r["fit_total"] if r["fit_total"] else None
    return rows


def report(results: dict, quick: bool) -> str:
    lines = []
    add = lines.append
    if quick:
        add("QUICK MODE: tiny data and draws; these numbers only show the script works.")
        add("")
    meta = results.get("meta", {})
    if meta:
        add(f"data: {meta.get('weeks')} weekly bins from make_bench_data.py (seed 7); machine: "
            f"{meta.get('cpus')} cores; python {meta.get('python')}; started {meta.get('started')}"
            + (f"; resumed {', '.join(meta['resumed'])}" if meta.get("resumed") else ""))
        add(f"versions: {meta.get('versions')}")
        add("")
    add("== Fit: wall, ESS over the scalar parameters, r-hat, divergences, peak memory ==")
    add("wall = pm.sample incl. compile (the span the peers time); excl = the sampling loop alone;")
    add("fit() = the engine's whole fit call (adds log-lik, prior/posterior predictive, diagnostics).")
    add("ESS/s = min bulk ESS / wall (incl. compile). mem = peak RSS of the contender's process tree.")
    add("ch = chains, 1000 draws each; the peers get PyMC's defaults (1000 tuning steps, max(2, cores)")
    add("chains), the engine its own (500 tuning steps, 4 chains on 2 cores). 'empty caches': compiled with")
    add("empty PyTensor/numba caches, as on a fresh machine; the main row uses the machine's caches.")
    header = (f"{'contender':34} {'ch':>2} {'wall s':>8} {'excl s':>8} {'fit() s':>8} {'bulkESS':>8} "
              f"{'tailESS':>8} {'ESS/s':>7} {'ESS/s ex':>8} {'max rhat':>8} {'div':>4} {'mem MiB':>8}")
    add(header)
    add("-" * len(header))
    rows = fit_rows(results)
    for r in rows:
        add(f"{r['label']:34} {r['chains']:>2} {fmt(r['wall']):>8} {fmt(r['wall_excl']):>8} "
            f"{fmt(r['fit_total']):>8} "
            f"{fmt(r['ess_bulk'], '.0f'):>8} {fmt(r['ess_tail'], '.0f'):>8} {fmt(r['eps'], '.2f'):>7} "
            f"{fmt(r['eps_excl'], '.2f'):>8} {fmt(r['rhat'], '.3f'):>8} {r['div']:>4} "
            f"{fmt(r['mem'], '.0f'):>8}")
    add("")
    by = {r["label"]: r for r in rows}
    main = by.get("engine (bench_priors)")
    cold_cache = by.get("engine (bench_priors, empty caches)")
    if main:
        e = results["engine"]
        per_grad_ms = (1000 * e["sample_excl_compile_s"] * min(e["settings"]["chains"], 2)
                       / max(e["n_grad_evals"], 1))
        add(f"engine (bench_priors) time split: imports {e['imports_s']:.1f} s, "
            f"compile {e['compile_s']:.1f} s ({100 * e['compile_s'] / e['fit_total_s']:.1f}% of fit()), "
            f"sampling {e['sample_excl_compile_s']:.1f} s, "
            f"log-lik {e.get('log_likelihood_s', 0):.1f} s, "
            f"prior pred {e.get('prior_predictive_s', 0):.1f} s, "
            f"posterior pred {e.get('posterior_predictive_s', 0):.1f} s; "
            f"gradient evaluations {e['n_grad_evals']} ({per_grad_ms:.2f} ms each per core)")
        g = e["gate"]
        add(f"engine gate (all free parameters incl. the latent path): max r-hat {g['max_rhat']:.3f}, "
            f"min bulk ESS {g['min_ess_bulk']:.0f}, min tail ESS {g['min_ess_tail']:.0f}, "
            f"divergences {g['divergences']}, min E-BFMI {g['min_bfmi']:.2f} -> "
            f"{'passed' if g['passed'] else 'FAILED: ' + '; '.join(g['failures'])}")
        for key, label in (("naive-pymc", "naive"), ("careful-numpyro", "careful")):
            other = by.get(key)
            if other and other["eps"]:
                add(f"ESS/s ratio engine/{label}: {main['eps'] / other['eps']:.2f} (wall incl. compile)"
                    + (f"; {main['eps_excl'] / other['eps']:.2f} with the engine's compile excluded"
                       if main["eps_excl"] else "")
                    + (f"; {cold_cache['eps'] / other['eps']:.2f} compiled with empty caches"
                       if cold_cache and cold_cache["eps"] else ""))
        add("")
    a, e = results.get("agreement"), results.get("engine")
    if a and e:
        add("== Agreement: engine (bench_priors) vs careful (numpyro), posterior mean (sd) ==")
        add("diff/sd = |mean difference| / sqrt((sd_e^2 + sd_c^2) / 2); '!!' flags > 0.5. Intercept compared")
        add("at presence 1 (the peers' parametrisation): engine intercept - elasticity * log(presence_ref).")
        truth = results.get("meta", {}).get("truth", {})
        add(f"{'parameter':14} {'engine':>18} {'careful':>18} {'diff/sd':>8} {'truth':>7}")
        from _common import ENGINE_TO_PEER  # noqa: PLC0415

        for eng, peer in ENGINE_TO_PEER.items():
            ep = e["params"]["intercept_at_presence_1" if eng == "intercept" else eng]
            cp = a["params"][peer]
            pooled = ((ep["sd"] ** 2 + cp["sd"] ** 2) / 2) ** 0.5
            d = abs(ep["mean"] - cp["mean"]) / pooled
            add(f"{peer:14} {ep['mean']:>8.3f} ({ep['sd']:.3f})  {cp['mean']:>8.3f} ({cp['sd']:.3f})  "
                f"{d:>6.2f}{' !!' if d > 0.5 else '   '} {fmt(truth.get(peer), '.2f'):>6}")
        v = e["params"]["decapitation_volatility"]
        add(f"(engine only: decapitation_volatility {v['mean']:.4f} ({v['sd']:.4f}), "
            "pinned near 0 by its priors)")
        add("")
    s = results.get("scenarios")
    if s:
        add(f"== Scenario throughput: {s['draws']} draws x {s['scenarios']} scenarios "
            f"x {s['steps']} steps ==")
        add(f"engine simulate_scenarios (best of {len(s['engine_all_s'])}): {s['engine_s']:.2f} s "
            f"(all: {', '.join(f'{t:.2f}' for t in s['engine_all_s'])})")
        add(f"PyMC set_data + sample_posterior_predictive per scenario: {s['pymc_s']:.1f} s "
            f"(first scenario {s['pymc_per_scenario_s'][0]:.1f} s, mean of the rest "
            f"{sum(s['pymc_per_scenario_s'][1:]) / max(len(s['pymc_per_scenario_s']) - 1, 1):.1f} s)"
            )
        add(f"ratio PyMC / engine: {s['ratio_pymc_over_engine']:.0f}x; peak memory of the worker "
            f"{s['peak_rss_mib']:.0f} MiB")
        add("check, mean horizon total per scenario (engine / PyMC): "
            + ", ".join(f"{x:.1f}/{y:.1f}" for x, y in zip(s["mean_total_engine"], s["mean_total_pymc"])))
        add("")
    t = results.get("e2e")
    if t:
        shown = t["command"].split(" --runs-root")[0]
        add(f"== End to end: forecast {shown} ==")
        for phase in ("cold-empty-caches", "cold", "warm"):
            if phase not in t:
                continue
            p = t[phase]
            inner = p["stdout"].splitlines()[-1] if p["stdout"] else ""
            add(f"{phase:17} wall {p['wall_s']:.1f} s, peak memory {p['peak_rss_mib']:.0f} MiB   ({inner})")
        add("")
    return "\n".join(lines)


def load_results(out: Path) -> dict:
    results = {}
    for stage in ("meta", *STAGES):
        path = out / f"{stage}.json"
        if path.exists():
            results[stage] = json.loads(path.read_text())
    return results


def versions() -> str:
    code = ("import importlib.metadata as m\n"
            "names=['pymc','pytensor','nutpie','numba','numpy','arviz','jax','jaxlib','numpyro']\n"
            "out=[]\n"
            "for n in names:\n"
            "    try: out.append(n+' '+m.version(n))\n"
            "    except Exception: out.append(n+' missing')\n"
            "print(', '.join(out))")
    return subprocess.run([PY, "-c", code], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and draws: smoke test only")
    parser.add_argument("--out", help="folder for logs and per-stage results (default: a new temp dir)")
    parser.add_argument("--skip", nargs="*", default=[], choices=STAGES[1:], help="stages to leave out")
    parser.add_argument("--default-priors", action="store_true",
                        help="also fit the engine with the default priors (another full fit)")
    parser.add_argument("--report-only", metavar="DIR", help="print the tables from an earlier --out DIR")
    parser.add_argument("--resume", action="store_true",
                        help="with --out DIR of an interrupted run: keep its data and finished stages")
    args = parser.parse_args()

    if args.report_only:
        out = Path(args.report_only)
        print(report(load_results(out), (out / "QUICK").exists()))
        return
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-"))
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    skip = set(args.skip)
    if args.quick:
        skip |= {"naive", "careful"}   # the peer scripts take no --draws: they cannot be shortened
        (out / "QUICK").write_text("")
    if not args.default_priors:
        skip.add("engine-default")
    priors = str(HERE / "bench_priors.toml")
    started = time.perf_counter()
    log(f"benchmark output folder: {out}")

    data = out / "data"
    weeks = 104 if args.quick else 520
    resume = args.resume and (out / "meta.json").exists()
    if resume:
        done = [st for st in STAGES[1:] if (out / f"{st}.json").exists()]
        log(f"resuming: reusing the data and the finished stages {', '.join(done) or '(none)'}")
        skip |= set(done)
        meta = json.loads((out / "meta.json").read_text())
        meta.setdefault("resumed", []).append(time.strftime("%Y-%m-%d %H:%M:%S"))
        stage_done(out, "meta", meta)
    else:
        subprocess.run([PY, "make_bench_data.py", str(data), "--weeks", str(weeks)], cwd=BENCH_DIR,
                       check=True)
        stage_done(out, "meta", {
            "weeks": weeks, "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "versions": versions(),
            "truth": json.loads((data / "truth.json").read_text()),
        })
    if "careful" not in skip:
        run_peer("careful_pymc.py", data, out, "careful")
    if "agreement" not in skip:
        run_agreement(data, out, args.quick)
    if "engine" not in skip:
        run_engine(data, out, "engine", priors, args.quick)
    if "engine-cold-cache" not in skip:
        run_engine(data, out, "engine-cold-cache", priors, args.quick, empty_compile_caches(out, "engine"))
    if "engine-default" not in skip:
        run_engine(data, out, "engine-default", None, args.quick)
    if "scenarios" not in skip and (out / "engine-posterior.nc").exists():
        run_scenarios(data, out, priors)
    if "e2e" not in skip:
        run_e2e(out, args.quick)
    if "naive" not in skip:
        run_peer("naive_pymc.py", data, out, "naive")
    log(f"all stages done in {time.perf_counter() - started:.0f} s")
    print()
    print(report(load_results(out), args.quick))


if __name__ == "__main__":
    main()
