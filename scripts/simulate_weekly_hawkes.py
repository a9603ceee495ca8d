"""Write a weekly counts CSV simulated from the Hawkes model with known excitation.

Used to show that model comparison and the backtest can tell a self-exciting series from a
latent AR one: 312 weeks (six years), presence halved half-way through, a geometric kernel.
The true values are printed and written next to the CSV (TRUTH.json).

    python scripts/simulate_weekly_hawkes.py OUT.csv [--weeks 312] [--branching 0.6] [--seed 11]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.families.hawkes.graph import KERNEL_LAGS, simulate_series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--weeks", type=int, default=312)
    parser.add_argument("--branching", type=float, default=0.6)
    parser.add_argument("--kernel-decay", type=float, default=0.7)
    parser.add_argument("--overdispersion", type=float, default=0.3)
    parser.add_argument("--long-run-mean", type=float, default=1.5, help="attacks/week at typical presence")
    parser.add_argument("--elasticity", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    n = args.weeks
    presence = np.where(np.arange(n) < n // 2, 5.0, 2.5)
    ref = float(np.exp(np.mean(np.log(presence))))
    background = args.long_run_mean * (1 - args.branching) * (presence / ref) ** args.elasticity
    counts = simulate_series(background, args.branching, "geometric", args.kernel_decay,
                             args.overdispersion, KERNEL_LAGS["week"], args.seed)
    dates = pd.date_range("2020-01-06", periods=n, freq="7D").strftime("%Y-%m-%d")
    out = Path(args.out)
    pd.DataFrame({"date": dates, "count": counts.astype(int), "presence": presence}).to_csv(out, index=False)
    truth = {"intercept": float(np.log(args.long_run_mean)), "elasticity": args.elasticity,
             "branching": args.branching, "kernel_decay": args.kernel_decay,
             "overdispersion": args.overdispersion, "weeks": n, "seed": args.seed,
             "total_attacks": int(counts.sum())}
    out.with_name(out.stem + "_TRUTH.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(json.dumps(truth))


if __name__ == "__main__":
    main()
