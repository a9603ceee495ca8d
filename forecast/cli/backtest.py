"""`forecast backtest`: rolling-origin evaluation against baselines (and SBC).

    forecast backtest [--data bundled] [--origins N] [--from YYYY-MM] [--every K] [--horizon H]
                      [--models latent_ar,zero,...] [--ensemble latent_ar,negbin]
                      [--scheduler ADDRESS] [--workers 2]
                      [--draws 300 --tune 300 --chains 2 --seed S] [--sbc N] [--out DIR]
"""

from __future__ import annotations

import argparse
import re
import socket
import time
from pathlib import Path

from forecast.cli.common import add_data_args, data_source, positive_int, seed_arg
from forecast.config import DEFAULT_MODEL, DEFAULT_SEED

ORIGIN_RE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
SCHEDULER_RE = re.compile(r"^(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])"
                          r":(?P<port>\d{1,5})/?$")
# how long an unreachable scheduler may keep the command waiting before it is refused
CONNECT_TIMEOUT = 5.0


def origin_arg(text: str) -> str:
    if not ORIGIN_RE.match(text):
        raise argparse.ArgumentTypeError(f"expected YYYY-MM (or YYYY-MM-DD), got {text[:40]!r}")
    try:
        import pandas as pd

        pd.Timestamp(text if len(text) == 10 else text + "-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a calendar date") from None
    return text


def scheduler_arg(text: str) -> str:
    match = SCHEDULER_RE.match(text.strip())
    if not match or not 0 < int(match["port"]) < 65536:
        raise argparse.ArgumentTypeError(f"expected a Dask scheduler address such as tcp://host:8786, "
                                         f"got {text[:60]!r}")
    return text.strip()


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text[:40]!r}") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 100000, got {text[:40]}")
    return value

# the backtest's default and known contenders are listed by forecast.evaluation.backtest;
# not imported here so that `forecast --help` does not import PyMC
ALL_MODELS = (DEFAULT_MODEL, "zero", "last_value", "hist_mean", "negbin", "tsb")
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
    p.add_argument("--origins", type=positive_int, default=6,
                   help="number of forecast origins (default 6)")
    p.add_argument("--from", dest="first", type=origin_arg,
                   help="first origin YYYY-MM (default: the last origins whose whole horizon has data)")
    p.add_argument("--every", type=positive_int, default=1, help="bins between origins (default 1)")
    p.add_argument("--horizon", type=positive_int, default=6,
                   help="bins forecast after each origin (default 6)")
    p.add_argument("--models", default=",".join(ALL_MODELS),
                   help=f"comma-separated, from {', '.join(KNOWN_MODELS)} (default: "
                   f"{','.join(ALL_MODELS)}; the Hawkes families need a fully observed counts series)")
    p.add_argument("--ensemble", metavar="MODEL,BASELINE",
                   help="also score lfo_ensemble, the mixture of these two contenders (both in "
                   "--models) weighted at each origin by stacking their one-step-ahead log "
                   "densities on earlier origins' targets published before it")
    p.add_argument("--scheduler", type=scheduler_arg,
                   help="Dask scheduler address (tcp://host:8786); default: local processes")
    p.add_argument("--workers", type=positive_int, default=2, help="local worker processes (default 2)")
    p.add_argument("--serial", action="store_true", help="run origins one by one in this process")
    p.add_argument("--priors", help="TOML priors overriding the model's default priors")
    p.add_argument("--seed", type=seed_arg, default=DEFAULT_SEED,
                   help="run seed; each origin derives its own")
    p.add_argument("--draws", type=int, default=300, help="posterior draws per chain (default 300)")
    p.add_argument("--tune", type=int, default=300, help="tuning steps per chain (default 300)")
    p.add_argument("--chains", type=int, default=2, help="chains per fit (default 2)")
    p.add_argument("--target-accept", type=float, default=0.99, help="NUTS target acceptance rate")
    p.add_argument("--sbc", type=non_negative_int, default=0, metavar="N",
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
    runs.check_output(out)
    settings = FitSettings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
                           target_accept=args.target_accept)
    settings.check()
    if args.sbc_only and not args.sbc:
        raise InputError("command line", "--sbc-only needs --sbc N (N >= 1 replications)")
    if args.serial and args.scheduler:
        raise InputError("command line", "--serial and --scheduler exclude each other")
    executor = "serial" if args.serial else (args.scheduler or "local")
    models = check_models(args.models)
    if args.priors:
        from forecast.config import MAX_PRIORS_BYTES
        from forecast.safeio import check_regular

        check_regular(args.priors, MAX_PRIORS_BYTES, "TOML priors file")
    if args.scheduler:
        check_reachable(args.scheduler)
    ensemble = None
    if args.ensemble:
        ensemble = tuple(m.strip() for m in args.ensemble.split(",") if m.strip())
    manifest = {"command": runs.command_line(), "seed": args.seed, "horizon": args.horizon,
                "executor": "dask" if args.scheduler else executor, "models": list(models),
                "ensemble": None if ensemble is None else list(ensemble),
                "fit": {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                        "target_accept": args.target_accept}}
    frame = pd.DataFrame()
    if not args.sbc_only:
        dataset = data_source(args).load()
        check_families(models, dataset, args.priors)
        origins = choose_origins(dataset, args.origins, args.horizon, args.first, args.every)
        manifest.update({"data": dataset.name, "data_sha256": dataset.content_hash(),
                         "origins": [dataset.axis.labels[o] for o in origins]})
        frame = run_backtest(dataset, origins, args.horizon, models, settings, args.seed,
                             executor=executor, max_workers=args.workers, priors_file=args.priors,
                             ensemble=ensemble)
    ranks = None
    if args.sbc:
        from forecast.evaluation.sbc import run_sbc

        ranks = run_sbc(args.sbc, args.seed, args.draws, args.tune, args.chains, executor=executor,
                        max_workers=args.workers)
        manifest["sbc_replications"] = args.sbc
    return write_backtest_run(frame, out, manifest, ranks)


def check_models(text: str) -> tuple[str, ...]:
    """The --models list: known names, at least one, none twice."""
    from forecast.errors import InputError, did_you_mean

    models = tuple(m.strip() for m in text.split(",") if m.strip())
    if not models:
        raise InputError("command line", f"--models {text!r} names no model; e.g. --models latent_ar,zero")
    for name in models:
        if name not in KNOWN_MODELS:
            raise InputError("command line", f"unknown model {name!r}{did_you_mean(name, KNOWN_MODELS)}; "
                             f"available: {', '.join(KNOWN_MODELS)}")
    if len(set(models)) != len(models):
        raise InputError("command line", "--models lists a model twice")
    return models


def check_families(models: tuple[str, ...], dataset, priors: str | None) -> None:
    """Every model family of the backtest accepts the data (as `run` and `validate` check)."""
    from forecast.families import FAMILIES, make_family

    for name in models:
        if name in FAMILIES:
            make_family(name, dataset, priors)


def check_reachable(address: str) -> None:
    """Refuse, within CONNECT_TIMEOUT, a scheduler that does not answer (before any work)."""
    from forecast.errors import InputError

    match = SCHEDULER_RE.match(address)
    host = match["host"].strip("[]")
    try:
        with socket.create_connection((host, int(match["port"])), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise InputError("command line", f"--scheduler {address}: cannot connect within "
                         f"{CONNECT_TIMEOUT:.0f} s ({exc.strerror or exc}); start the scheduler, or "
                         "drop --scheduler to use local processes") from None
