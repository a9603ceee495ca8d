"""`forecast backtest`: rolling-origin evaluation against baselines (and SBC).

    forecast backtest [--data bundled] [--origins N] [--from YYYY-MM] [--every K] [--horizon H]
                      [--models latent_ar,zero,...] [--scheduler ADDRESS] [--workers 2]
                      [--draws 300 --tune 300 --chains 2 --seed S] [--sbc N] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from forecast.cli.common import add_data_args, data_source
from forecast.config import DEFAULT_SEED

# the backtest's default and known contenders are listed by forecast.evaluation.backtest;
# not imported here so that `forecast --help` does not import PyMC
ALL_MODELS = ("latent_ar", "zero", "last_value", "hist_mean", "negbin", "tsb")
KNOWN_MODELS = ("latent_ar", "hawkes", "hawkes_powerlaw", "regional_ar", "zero", "last_value", "hist_mean",
                "negbin", "tsb")


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="rolling-origin backtest of the model against baselines")
    add_data_args(p)
    add_backtest_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    path = backtest_command(args)
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")
    return 0


def add_backtest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--origins", type=int, default=6, help="number of forecast origins (default 6)")
    p.add_argument("--from", dest="first", help="first origin YYYY-MM (default: the last origins "
                   "whose whole horizon has data)")
    p.add_argument("--every", type=int, default=1, help="bins between origins (default 1)")
    p.add_argument("--horizon", type=int, default=6, help="bins forecast after each origin (default 6)")
    p.add_argument("--models", default=",".join(ALL_MODELS),
                   help=f"comma-separated, from {', '.join(KNOWN_MODELS)} (default: "
                   f"{','.join(ALL_MODELS)}; the Hawkes families need a fully observed counts series)")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786); default: local processes")
    p.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    p.add_argument("--serial", action="store_true", help="run origins one by one in this process")
    p.add_argument("--priors", help="TOML priors overriding the model's default priors")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="run seed; each origin derives its own")
    p.add_argument("--draws", type=int, default=300, help="posterior draws per chain (default 300)")
    p.add_argument("--tune", type=int, default=300, help="tuning steps per chain (default 300)")
    p.add_argument("--chains", type=int, default=2, help="chains per fit (default 2)")
    p.add_argument("--target-accept", type=float, default=0.99, help="NUTS target acceptance rate")
    p.add_argument("--sbc", type=int, default=0, metavar="N",
                   help="also run N simulation-based-calibration replications of the default model")
    p.add_argument("--sbc-only", action="store_true", help="run only the SBC replications")
    p.add_argument("--out", help="new folder for the run (default runs/<time>-backtest)")
    p.add_argument("--runs-root", default="runs", help="where new runs go (default ./runs)")


def backtest_command(args: argparse.Namespace) -> Path:
    import pandas as pd

    from forecast import runs
    from forecast.config import FitSettings
    from forecast.errors import InputError
    from forecast.evaluation.backtest import choose_origins, run_backtest
    from forecast.evaluation.output import write_backtest_run

    out = runs.new_run_path(args.out, Path(args.runs_root), "backtest")
    settings = FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
                           target_accept=args.target_accept)
    settings.check()
    if args.sbc < 0:
        raise InputError("command line", "--sbc must be >= 0")
    executor = "serial" if args.serial else (args.scheduler or "local")
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    manifest = {"command": runs.command_line(), "seed": args.seed, "horizon": args.horizon,
                "executor": "dask" if args.scheduler else executor, "models": list(models),
                "fit": {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                        "target_accept": args.target_accept}}
    frame = pd.DataFrame()
    if not args.sbc_only:
        dataset = data_source(args).load()
        origins = choose_origins(dataset, args.origins, args.horizon, args.first, args.every)
        manifest.update({"data": dataset.name, "data_sha256": dataset.content_hash(),
                         "origins": [dataset.axis.labels[o] for o in origins]})
        frame = run_backtest(dataset, origins, args.horizon, models, settings, args.seed,
                             executor=executor, max_workers=args.workers, priors_file=args.priors)
    ranks = None
    if args.sbc:
        from forecast.evaluation.sbc import run_sbc

        ranks = run_sbc(args.sbc, args.seed, args.draws, args.tune, args.chains, executor=executor,
                        max_workers=args.workers)
        manifest["sbc_replications"] = args.sbc
    return write_backtest_run(frame, out, manifest, ranks)
