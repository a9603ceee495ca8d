"""Options shared by several commands, and the one place that turns them into a RunConfig."""

from __future__ import annotations

import argparse

from forecast.config import DEFAULT_MODEL, DEFAULT_SEED, LAYOUTS, MAX_SEED, DataSource, FitSettings, RunConfig
from forecast.errors import InputError

# the sampler's options and their defaults; None on the command line = not given
SAMPLER_DEFAULTS = {"draws": 1000, "tune": 500, "chains": 4, "sampler": "nutpie", "target_accept": 0.99,
                    "mass_matrix": "draws"}


def seed_arg(text: str) -> int:
    """--seed: checked when the command line is read, before any work, for every command."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_SEED}, "
                                         f"got {text[:40]!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_SEED}, got {text[:40]}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1 (origins, workers, horizons...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text[:40]!r}") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be from 1 to 1000000, got {text[:40]}")
    return value

DATA_HELP = "'bundled' (default) or a CSV: counts (date,count[,series][,presence,...]) or observations"
MODEL_HELP = ("model family: regional_ar (default; the latent AR model per region, the same as latent_ar "
              "on data without regions), latent_ar, hawkes, hawkes_powerlaw")


def add_data_args(p: argparse.ArgumentParser, positional: bool = False) -> None:
    if positional:
        p.add_argument("data", nargs="?", default="bundled", help=DATA_HELP)
    else:
        p.add_argument("--data", default="bundled", help=DATA_HELP)
    p.add_argument("--events", help="events CSV (date,kind[,name][,end_date]); replaces the data's events")
    p.add_argument("--layout", choices=LAYOUTS, default="counts",
                   help="layout of the data: counts/observations CSV, or an ACLED or UCDP GED export")
    p.add_argument("--perpetrator", action="append",
                   help="ACLED/UCDP: actor name fragment of the attackers (repeatable)")
    p.add_argument("--target", action="append",
                   help="ACLED/UCDP: actor name fragment of the targets (repeatable)")
    p.add_argument("--freq", choices=("month", "week"), default="month",
                   help="ACLED/UCDP: bins to count events in")


def add_fit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--priors", help="TOML priors overriding the model's default priors per parameter")
    p.add_argument("--model", default=DEFAULT_MODEL, help=MODEL_HELP)
    p.add_argument("--seed", type=seed_arg, default=DEFAULT_SEED,
                   help=f"seed of the sampler and of the scenario draws (default {DEFAULT_SEED})")
    p.add_argument("--draws", type=int, help="posterior draws per chain (default 1000)")
    p.add_argument("--tune", type=int, help="tuning steps per chain (default 500)")
    p.add_argument("--chains", type=int, help="independent chains (default 4)")
    p.add_argument("--sampler", help="nutpie (default) or pymc")
    p.add_argument("--target-accept", type=float, help="NUTS target acceptance rate (default 0.99)")
    p.add_argument("--mass-matrix",
                   help="nutpie's mass matrix adaptation: draws (default; variance of the tuning "
                        "draws) or gradients (nutpie's own, from draw and gradient variances)")
    p.add_argument("--allow-unconverged", action="store_true",
                   help="use a fit that failed the diagnostics gate (reports say so)")
    p.add_argument("--no-cache", action="store_true", help="refit even if a cached fit exists")
    p.add_argument("--runs-root", default="runs",
                   help="where new runs and the fit cache live (default ./runs)")


def data_source(args: argparse.Namespace) -> DataSource:
    return DataSource(data=args.data, events=args.events, layout=args.layout,
                      perpetrator=tuple(args.perpetrator or ()), target=tuple(args.target or ()),
                      freq=args.freq)


def run_config(args: argparse.Namespace) -> RunConfig:
    """The RunConfig of a fit/run/validate command line."""
    get = vars(args).get
    models = tuple(m.strip() for m in (get("models") or "").split(",") if m.strip())
    if get("models") is not None and not models:
        raise InputError("command line", f"--models {get('models')!r} names no model; e.g. --models "
                         "latent_ar,hawkes")
    given = [name for name in SAMPLER_DEFAULTS if get(name) is not None]
    if get("fit_dir") and given:
        # the posterior comes from the fit run: a sampler option would be recorded but not used
        raise InputError("command line", f"--{given[0].replace('_', '-')} has no effect with --fit (the fit "
                         "run's posterior is used as it is); drop it, or fit anew without --fit")
    sampler = {name: default if get(name) is None else get(name)
               for name, default in SAMPLER_DEFAULTS.items()}
    fit = FitSettings(seed=get("seed", DEFAULT_SEED), **sampler)
    return RunConfig(data=data_source(args), model=get("model") or DEFAULT_MODEL, models=models,
                     ensemble=get("ensemble"), weights_from=get("weights_from", "lfo"),
                     lfo_origins=get("lfo_origins", 6), lfo_steps=get("lfo_steps", 1),
                     priors=get("priors"), fit=fit,
                     scenarios=tuple(get("scenarios") or ()), scenario_seed=get("seed", DEFAULT_SEED),
                     fit_dir=get("fit_dir"), allow_unconverged=bool(get("allow_unconverged")),
                     use_cache=not get("no_cache"), runs_root=get("runs_root") or "runs")
