"""Do a run's published numbers depend on the rate cap or the seed? Rerun one fit's scenarios.

    python scripts/stability.py FIT_OR_RUN_DIR [--scenarios scenarios/*.toml] [--out FILE.md]
        [--against OTHER_RUN_DIR ...]

Simulates the scenarios from one fit five times: the cap on the monthly rate at 1e3, 1e5
(the default) and 1e7 with the default scenario seed, and the default cap with seeds 1 and
2. Every quantile and probability of totals.csv and contrasts.csv (every row: the total's and,
for a regional model, each region's) is compared with the
default run's: a difference counts as agreeing when it is within 3 combined Monte Carlo
standard errors (sqrt(se_a^2 + se_b^2), from the `_mcse` columns) or, for quantiles of
integer counts, within 1 attack (a count quantile moves in steps of one).

With hundreds of numbers, some differences beyond 3 MCSE are expected by chance even when
every stated MCSE is right (at 508 numbers, P(at least one) = 75%). So the script also
checks the MCSEs themselves: the share of differences beyond 1, 2 and 3 combined MCSE
against what normal errors give (31.7%, 4.6%, 0.27%), and each difference against the
Bonferroni limit for the run's number of comparisons (family-wise 5%). It exits 1 if a
difference passes that limit or if the share beyond 2 MCSE is over twice its expected 4.6%
(the MCSEs would understate the error).
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
from scipy import stats

from forecast.config import DEFAULT_SEED
from forecast.data.loaders import load_dataset
from forecast.families import make_family
from forecast.fitting import POSTERIOR
from forecast.runs import read_manifest
from forecast.scenarios import summaries
from forecast.scenarios.spec import load_scenarios
from forecast.scenarios.toolkit import RATE_CAP, ScenarioSimulator
from forecast.simulation import simulate_scenarios

SETTINGS = [("cap 1e5, seed default", RATE_CAP, DEFAULT_SEED), ("cap 1e3", 1e3, DEFAULT_SEED),
            ("cap 1e7", 1e7, DEFAULT_SEED), ("seed 1", RATE_CAP, 1), ("seed 2", RATE_CAP, 2)]
Z_LIMIT = 3.0


def tables(family, posterior, scenarios, cap: float, seed: int) -> dict[str, pd.DataFrame]:
    ScenarioSimulator.rate_cap = cap
    try:
        draws = simulate_scenarios(family, posterior, scenarios, seed)
    finally:
        ScenarioSimulator.rate_cap = RATE_CAP
    # every published row: the total's and, for a regional model, each region's
    out = {"totals": summaries.total_summary(draws, regions=True),
           "contrasts": summaries.contrasts(draws, regions=True)}
    return {name: table.set_index([c for c in ("scenario", "region") if c in table.columns])
            for name, table in out.items()}


def published(run_dir: Path, table: str) -> pd.DataFrame:
    """A run's published table, indexed as `tables` indexes the simulated ones."""
    frame = pd.read_csv(run_dir / f"{table}.csv")
    return frame.set_index([c for c in ("scenario", "region") if c in frame.columns])


def compare(reference: pd.DataFrame, other: pd.DataFrame, table: str) -> list[dict]:
    rows = []
    for column in [c for c in reference.columns if f"{c}_mcse" in reference.columns]:
        counts = table == "totals" or column.startswith("diff_")
        for scenario in reference.index:
            a, b = reference.at[scenario, column], other.at[scenario, column]
            se = float(np.hypot(reference.at[scenario, f"{column}_mcse"],
                                other.at[scenario, f"{column}_mcse"]))
            diff = abs(a - b)
            # both undefined (a ratio against a baseline with no attacks in any draw) agree
            ok = (diff <= Z_LIMIT * se or (counts and diff <= 1.0) or diff == 0
                  or (np.isnan(a) and np.isnan(b)))
            rows.append({"table": table, "scenario": scenario, "statistic": column, "reference": a,
                         "other": b, "difference": diff, "combined_mcse": se, "agrees": ok,
                         "within_a_step": counts and diff <= 1.0})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fit_dir")
    parser.add_argument("--scenarios", nargs="+", default=sorted(glob.glob("scenarios/*.toml")))
    parser.add_argument("--out", help="write the Markdown table here too")
    parser.add_argument("--against", nargs="+", default=[], metavar="RUN_DIR",
                        help="also compare the published totals.csv and contrasts.csv of other runs "
                             "(e.g. a fit with another sampler seed) with FIT_OR_RUN_DIR's")
    args = parser.parse_args()
    fit_dir = Path(args.fit_dir)
    manifest = read_manifest(fit_dir)
    dataset = load_dataset(None)   # the bundled data (checked against the fit below)
    if dataset.content_hash() != manifest["data"]["content_sha256"]:
        sys.exit(f"{fit_dir}: fitted to other data than the bundled data")
    family = make_family(manifest["model"], dataset)
    posterior = az.from_netcdf(fit_dir / POSTERIOR).posterior
    scenarios = load_scenarios(args.scenarios)
    runs = {name: tables(family, posterior, scenarios, cap, seed) for name, cap, seed in SETTINGS}
    reference = runs[SETTINGS[0][0]]
    compared = [name for name, _, _ in SETTINGS[1:]]
    for other in args.against:
        name = f"run {other}"
        runs[name] = {t: published(Path(other), t) for t in ("totals", "contrasts")}
        compared.append(name)
    lines = ["| compared with the default | numbers | within 3 MCSE | beyond 1 / 2 / 3 MCSE (normal: "
             "31.7% / 4.6% / 0.27%) | largest |difference| / combined MCSE | Bonferroni limit |",
             "|---|---|---|---|---|---|"]
    outside, failures = [], []
    for name in compared:
        rows = [r for t in ("totals", "contrasts") for r in compare(reference[t], runs[name][t], t)]
        frame = pd.DataFrame(rows)
        # |z| of each difference; 0 where both agree exactly, are both undefined, or a count's
        # quantile moved by its step of one
        z = (frame["difference"] / frame["combined_mcse"].where(frame["combined_mcse"] > 0)).fillna(0.0)
        z = z.where(~frame["within_a_step"], 0.0)
        limit = float(stats.norm.isf(0.025 / len(frame)))
        shares = [float((z > k).mean()) for k in (1, 2, 3)]
        lines.append(f"| {name} | {len(frame)} | {int(frame['agrees'].sum())} | "
                     + " / ".join(f"{100 * v:.1f}%" for v in shares) + f" | {z.max():.2f} | {limit:.2f} |")
        outside += [f"{name}: {r['table']} {r['scenario']} {r['statistic']} {r['reference']} vs "
                    f"{r['other']} ({r['difference'] / r['combined_mcse']:.2f} MCSE)"
                    for r in rows if not r["agrees"]]
        failures += [f"{name}: {frame['table'][i]} {frame['scenario'][i]} {frame['statistic'][i]} beyond "
                     f"the Bonferroni limit ({z[i]:.2f} > {limit:.2f})" for i in np.flatnonzero(z > limit)]
        if shares[1] > 2 * 0.0455:
            failures.append(f"{name}: {100 * shares[1]:.1f}% of the differences beyond 2 MCSE "
                            "(normal errors: 4.6%): the stated MCSEs understate the error")
    text = "\n".join(lines) + "\n"
    if outside:
        text += "\nBeyond 3 MCSE:\n" + "\n".join(f"- {f}" for f in outside) + "\n"
    if failures:
        text += "\nFailures:\n" + "\n".join(f"- {f}" for f in failures) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
