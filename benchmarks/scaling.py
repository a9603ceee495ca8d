"""How the engine's fit grows with the data: series length and number of regions.

    python benchmarks/scaling.py [--out DIR] [--bins 130 260 520 1040 2080] [--regions 1 3 6]
        [--draws 300 --tune 300 --chains 2]

Two sweeps, each fit in its own child process (`engine_fit.py`, the engine's own fit path
with the fit cache off, the machine's compile caches):

- length: weekly series from ../shared/bench/make_bench_data.py (seed 7) with 130 to 2,080
  bins (the model of the total, bench_priors.toml);
- regions: 120 monthly bins of 1, 3 and 6 regions (forecast.data.simulate_regions, presence
  moving in opposite directions, long layout), one killing at month 60, with the regional
  model and its default priors.

Per fit: the whole fit() call, the compile, the sampling loop, the number of gradient
evaluations, the cost of one (sampling time x cores / evaluations) and peak memory (the
child's ru_maxrss from os.wait4). The growth rates are least-squares slopes on log-log
scales against bins x regions: 1 is linear. The number of gradient evaluations depends on
the posterior's geometry (the sampler's tree depth), not only on the size, so the cost of
one evaluation is the figure that shows the code's own growth. Small draws (the numbers are
costs, not posteriors); each size runs once, on a shared machine: read the slopes, not the
third digit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BENCH_DIR = (REPO / ".." / "shared" / "bench").resolve()
PY = sys.executable


def run_child(args: list[str], log: Path) -> int:
    """Run a child; return its peak resident memory in KiB (ru_maxrss of it and its children)."""
    with log.open("wb") as handle:
        proc = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed; see {log}")
    return usage.ru_maxrss


def weekly_data(out: Path, weeks: int) -> Path:
    target = out / f"weekly-{weeks}"
    subprocess.run([PY, str(BENCH_DIR / "make_bench_data.py"), str(target), "--weeks", str(weeks),
                    "--seed", "7"], check=True, capture_output=True)
    return target


def regional_data(out: Path, n_regions: int, months: int = 120) -> Path:
    from forecast.data.simulate_regions import RegionTruth, opposite_presence, simulate_regions

    names = ["r1", "r2", "r3", "r4", "r5", "r6"][:n_regions]
    offsets = dict(zip(names, np.linspace(0.5, -0.5, n_regions) if n_regions > 1 else [0.0]))
    sim = simulate_regions(months=months, truth=RegionTruth(offsets=offsets), seed=3,
                           presence=opposite_presence(months, n_regions=n_regions))
    target = out / f"regions-{n_regions}"
    target.mkdir(parents=True, exist_ok=True)
    sim.write_csv(target / "counts.csv")
    killing = _month(str(sim.frame["date"].iloc[0]), months // 2)
    (target / "events.csv").write_text(f"date,kind,name\n{killing}-15,decapitation,commander killed\n")
    return target


def _month(first: str, offset: int) -> str:
    year, month = int(first[:4]), int(first[5:7]) - 1 + offset
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def fit_once(data: Path, out: Path, name: str, draws: int, tune: int, chains: int,
             priors: str | None) -> dict:
    result = out / f"{name}.json"
    args = [PY, str(HERE / "engine_fit.py"), str(data), "--out", str(result), "--draws", str(draws),
            "--tune", str(tune), "--chains", str(chains)]
    if priors:
        args += ["--priors", priors]
    started = time.perf_counter()
    peak_kib = run_child(args, out / f"{name}.log")
    info = json.loads(result.read_text())
    cores = min(chains, 2)
    return {"name": name, "wall_s": time.perf_counter() - started, "fit_s": info["fit_total_s"],
            "compile_s": info["compile_s"], "sampling_s": info["sample_excl_compile_s"],
            "grad_evals": info["n_grad_evals"],
            "us_per_grad": 1e6 * info["sample_excl_compile_s"] * cores / info["n_grad_evals"],
            "peak_mib": peak_kib / 1024}


def slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y on log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def table(rows: list[dict], size_key: str) -> list[str]:
    lines = [f"| {size_key} | fit() s | compile s | sampling s | gradient evaluations | us per evaluation "
             "| peak MiB |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['fit_s']:.1f} | {r['compile_s']:.1f} | {r['sampling_s']:.1f} | "
                     f"{r['grad_evals']:,} | {r['us_per_grad']:.1f} | {r['peak_mib']:.0f} |")
    sizes = [r["cells"] for r in rows]
    lines.append("")
    lines.append("growth (log-log slope against bins x regions; 1 = linear): "
                 f"us per evaluation {slope(sizes, [r['us_per_grad'] for r in rows]):.2f}, "
                 f"sampling {slope(sizes, [r['sampling_s'] for r in rows]):.2f}, "
                 f"fit() {slope(sizes, [r['fit_s'] for r in rows]):.2f}, "
                 f"compile {slope(sizes, [r['compile_s'] for r in rows]):.2f}, "
                 f"peak memory {slope(sizes, [r['peak_mib'] for r in rows]):.2f}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--bins", type=int, nargs="+", default=[130, 260, 520, 1040, 2080])
    parser.add_argument("--regions", type=int, nargs="+", default=[1, 3, 6])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--tune", type=int, default=300)
    parser.add_argument("--chains", type=int, default=2)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="scaling-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"output folder: {out}", flush=True)
    priors = str(HERE / "bench_priors.toml")
    length = []
    for bins in args.bins:
        row = fit_once(weekly_data(out, bins), out, f"weekly-{bins}", args.draws, args.tune, args.chains,
                       priors)
        length.append({**row, "size": bins, "cells": bins})
        print(f"weekly {bins}: fit {row['fit_s']:.1f} s, {row['us_per_grad']:.1f} us per evaluation, "
              f"{row['peak_mib']:.0f} MiB", flush=True)
    regional = []
    for n in args.regions:
        row = fit_once(regional_data(out, n), out, f"regions-{n}", args.draws, args.tune, args.chains, None)
        regional.append({**row, "size": n, "cells": 120 * n})
        print(f"regions {n}: fit {row['fit_s']:.1f} s, {row['us_per_grad']:.1f} us per evaluation, "
              f"{row['peak_mib']:.0f} MiB", flush=True)
    lines = [f"Scaling of the engine's fit ({args.chains} chains, {args.tune} tuning steps and {args.draws} "
             f"draws each; {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f})", "",
             "Series length (weekly bins, model of the total):", "", *table(length, "bins"), "",
             "Regions (120 monthly bins each, regional model):", "", *table(regional, "regions")]
    text = "\n".join(lines) + "\n"
    print(text)
    (out / "scaling.md").write_text(text)
    (out / "scaling.json").write_text(json.dumps({"length": length, "regions": regional}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
