"""`forecast export RUN_DIR --format hubverse`: a scenario run's forecasts as a long table."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from forecast.errors import InputError

FORMATS = ("hubverse",)


def register_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a run's forecasts as a long table in the hubverse layout",
                       description="Write every scenario's monthly forecast of a scenario run as one long "
                       "table in the hubverse layout (origin_date, scenario_id, target, horizon, "
                       "target_end_date, location, output_type, output_type_id, value): quantiles and "
                       "sample trajectories. CSV, or Parquet when --out ends in .parquet.")
    p.add_argument("run_dir", help="a scenario run folder (with scenarios.nc)")
    p.add_argument("--format", choices=FORMATS, default="hubverse", help="table layout (default hubverse)")
    p.add_argument("--quantiles", help="quantile levels, comma-separated (default the hubs' 23: "
                   "0.01,0.025,0.05,0.1,...,0.9,0.95,0.975,0.99)")
    p.add_argument("--samples", type=int,
                   help="sample trajectories per scenario and location, evenly spaced draws (default 100; "
                   "0 for quantiles only)")
    p.add_argument("--out", help="file to write, .csv or .parquet (default: beside RUN_DIR, "
                   "<run name>-hubverse.csv); never written over")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import xarray as xr

    from forecast import runs
    from forecast.scenarios.hubverse import (
        DEFAULT_QUANTILES,
        DEFAULT_SAMPLES,
        hubverse_table,
        parse_quantiles,
    )

    run_dir = Path(args.run_dir).resolve()
    manifest = runs.read_manifest(run_dir)
    if manifest.get("kind") != "run" or not (run_dir / "scenarios.nc").exists():
        raise InputError(run_dir, "is not a scenario run (no scenarios.nc); export needs the output of "
                         "`forecast run`")
    quantiles = parse_quantiles(args.quantiles) if args.quantiles else DEFAULT_QUANTILES
    samples = DEFAULT_SAMPLES if args.samples is None else args.samples
    if samples < 0:
        raise InputError("command line", f"--samples {samples}: expected 0 or more")
    out = Path(args.out) if args.out else run_dir.parent / f"{run_dir.name}-hubverse.csv"
    if out.suffix not in (".csv", ".parquet"):
        raise InputError(out, "expected a .csv or .parquet file name")
    if out.exists():
        raise InputError(out, "already exists; choose another --out (nothing was written)")
    if not out.parent.is_dir():
        raise InputError(out, f"folder {out.parent} does not exist")
    with xr.open_dataset(run_dir / "scenarios.nc", engine="h5netcdf") as draws:
        table = hubverse_table(draws.load(), quantiles, samples)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        if out.suffix == ".parquet":
            table.to_parquet(tmp, index=False)        # needs pyarrow (a dependency of the data loaders)
        else:
            table.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {out}: {len(table):,} rows ({table['scenario_id'].nunique()} scenarios, "
          f"{table['horizon'].max()} months, {len(quantiles)} quantiles, "
          f"{table.loc[table['output_type'] == 'sample', 'output_type_id'].nunique()} samples)")
    return 0
