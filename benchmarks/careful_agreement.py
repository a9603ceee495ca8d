"""Worker: fit the careful peer's model (../shared/bench/careful_pymc.build) with numpyro in
this process and save its posterior summary, for the agreement check with the engine.

    python benchmarks/careful_agreement.py DATA_DIR --out RESULT.json [--draws N --tune N --chains N]

The model, sampler and seed are the peer's (pm.sample(nuts_sampler="numpyro", random_seed=1)),
but with 4 chains like the engine (1000 draws, 1000 tuning steps), where the peer script takes
PyMC's default chains = max(2, cores) = 2 on a 2-core machine. The summary is the means, sds,
bulk and tail ESS and r-hat of every scalar parameter.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import PEER_SCALARS, add_bench_to_path, diag_of, scalar_draws, summary_line, write_json


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    args = parser.parse_args()

    add_bench_to_path()
    import careful_pymc
    import pandas as pd
    import pymc as pm

    data = Path(args.data)
    model = careful_pymc.build(pd.read_csv(data / "counts.csv"), pd.read_csv(data / "events.csv"))
    started = time.perf_counter()
    with model:
        idata = pm.sample(nuts_sampler="numpyro", random_seed=args.seed, progressbar=False,
                          draws=args.draws, tune=args.tune, chains=args.chains)
    wall = time.perf_counter() - started
    params = diag_of({name: scalar_draws(idata.posterior, name) for name in PEER_SCALARS})
    out = {"name": "careful-numpyro (in-process)", "wall_s": wall, "chains": args.chains,
           "divergences": int(idata.sample_stats["diverging"].sum()),
           **summary_line(params, PEER_SCALARS), "params": params}
    write_json(args.out, out)
    print(f"careful-agreement wall_s={wall:.1f} min_ess_bulk={out['min_ess_bulk']:.0f} "
          f"min_ess_tail={out['min_ess_tail']:.0f}", flush=True)


if __name__ == "__main__":
    main()
