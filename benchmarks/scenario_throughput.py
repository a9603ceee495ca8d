"""Worker: scenario throughput, the engine's vectorised simulator against the PyMC way.

    python benchmarks/scenario_throughput.py DATA_DIR POSTERIOR.nc --out RESULT.json
        [--priors FILE] [--scenarios 10] [--months 36] [--draws N]

Both sides push every posterior draw of the benchmark fit forward under the same 10
scenarios (presence paths built programmatically and parsed with the engine's
parse_scenario):

- engine: one `simulate_scenarios(model, posterior, scenarios, seed)` call (numpy,
  vectorised over draws, loop over the horizon);
- PyMC: a forecast model written the way a PyMC user would (below, `forecast_model`):
  the same latent AR(1) continued from each draw's last in-sample state u_T, the
  decapitation effects carried forward, presence as `pm.Data`; per scenario one
  `pm.set_data` and one `pm.sample_posterior_predictive` for the rate and the counts.

The horizon is given in the data's bins: the benchmark data is weekly, so "36 months"
are 36 weekly steps of the recursion (a scenario's `months` counts bins).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from _common import write_json

RATE_CAP = 1e5  # the engine caps rates at this value too


def scenario_texts(first_future: pd.Timestamp, last_presence: float, n: int, months: int) -> list[str]:
    """n scenarios of different presence paths (thousands of troops), all with the same horizon."""
    def day(weeks: int) -> str:
        return (first_future + pd.Timedelta(weeks=weeks)).strftime("%Y-%m-%d")

    texts = []
    for i in range(n):
        name = f"s{i:02d}"
        if i == 0:
            points = None                                           # hold at the last value
        elif i % 3 == 1:                                            # drawdown to a fraction
            points = [(day(0), last_presence), (day(4 + i), last_presence * (1 - 0.08 * i))]
        elif i % 3 == 2:                                            # build-up
            points = [(day(0), last_presence), (day(2 + i), last_presence * (1 + 0.25 * i))]
        else:                                                       # down, then back up
            points = [(day(0), last_presence), (day(8), last_presence / 2), (day(20 + i), last_presence)]
        lines = [f'name = "{name}"', f'description = "benchmark scenario {i}"']
        if i:
            lines.append('baseline = "s00"')
        lines += ["", "[horizon]", f"months = {months}", ""]
        if points:
            pts = ", ".join(f'{{ date = "{d}", value = {v:.4f} }}' for d, v in points)
            lines += ["[presence]", f"points = [{pts}]"]
        texts.append("\n".join(lines) + "\n")
    return texts


def forecast_model(model, horizon: int) -> pm.Model:
    """The PyMC comparison model: the latent AR continued from u_T over `horizon` bins."""
    ds = model.dataset
    (design,) = [d for d in model.kinds if d.kind == "decapitation"]
    if len(design.groups) != 1:
        raise ValueError("the comparison model handles one decapitation group")
    n_hist = ds.axis.n
    # bins since the killing, in the future bins (the killing is in the history)
    lag = design.lag[0, -1] + 1 + np.arange(horizon)
    steps = np.arange(horizon)
    lags = np.subtract.outer(steps, steps).astype(float)
    mask = lags >= 0
    with pm.Model(coords={"step": steps}) as fm:
        presence = pm.Data("presence", np.full(horizon, ds.presence[-1]), dims="step")
        # parameters: taken from the posterior trace (the Flat priors are never used)
        intercept = pm.Flat("intercept")
        elasticity = pm.Flat("elasticity")
        level = pm.Flat("level")
        pulse = pm.Flat("pulse")
        decay = pm.Flat("decay")
        volatility = pm.Flat("volatility")
        rho = pm.Flat("rho")
        sigma = pm.Flat("sigma")
        u_last = pm.Flat("u_last")
        # new: the future innovations, drawn by sample_posterior_predictive
        eps = pm.Normal("eps", 0.0, 1.0, dims="step")
        sigma_after = sigma * pt.exp(volatility)          # the killing is in the past
        powers = pt.where(mask, pt.exp(np.where(mask, lags, 0.0) * pt.log(rho)), 0.0)
        u = rho ** (steps + 1.0) * u_last + pt.dot(powers, sigma_after * eps)
        log_p = pt.log(pt.maximum(presence, 1e-12) / model.presence_ref)
        log_rate = intercept + elasticity * log_p + level + pulse * decay**lag + u
        rate = pt.minimum(pt.exp(pt.minimum(log_rate, np.log(RATE_CAP))), RATE_CAP)
        rate = pm.Deterministic("rate", pt.where(presence > 0, rate, 0.0), dims="step")
        pm.Poisson("count", rate, dims="step")
    assert n_hist == len(ds.presence)
    return fm


def forecast_trace(posterior: xr.Dataset) -> xr.Dataset:
    """The engine's posterior renamed to the comparison model's variables."""
    def one(name: str) -> xr.DataArray:
        arr = posterior[name]
        extra = [d for d in arr.dims if d not in ("chain", "draw")]
        return arr.squeeze(extra, drop=True) if extra else arr

    return xr.Dataset({
        "intercept": one("intercept"), "elasticity": one("elasticity"),
        "level": one("decapitation_level"), "pulse": one("decapitation_pulse"),
        "decay": one("decapitation_decay"), "volatility": one("decapitation_volatility"),
        "rho": one("rho"), "sigma": one("sigma"),
        "u_last": posterior["u"].isel(bin=-1, drop=True),
    })


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("posterior")
    parser.add_argument("--out", required=True)
    parser.add_argument("--priors", default=None)
    parser.add_argument("--scenarios", type=int, default=10)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from forecast.data.loaders import load_counts
    from forecast.families.latent_ar.graph import LatentARModel
    from forecast.scenarios.spec import parse_scenario
    from forecast.simulation import simulate_scenarios

    data = Path(args.data)
    dataset = load_counts(data / "counts.csv", data / "events.csv")
    model = LatentARModel(dataset, args.priors)
    posterior = xr.load_dataset(args.posterior)
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    texts = scenario_texts(dataset.axis.next_start(), float(dataset.presence[-1]), args.scenarios,
                           args.months)
    scenarios = [parse_scenario(t, f"<bench scenario {i}>") for i, t in enumerate(texts)]

    # ---- engine: one call simulates every scenario; repeated, the best time is kept
    engine_times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        sims = simulate_scenarios(model, posterior, scenarios, args.seed)
        engine_times.append(time.perf_counter() - started)

    # ---- PyMC: one set_data + sample_posterior_predictive per scenario
    fm = forecast_model(model, args.months)
    trace = forecast_trace(posterior)
    pymc_per_scenario, pymc_totals = [], []
    started_all = time.perf_counter()
    with fm:
        for i, _scenario in enumerate(scenarios):
            path = sims["presence"].isel(scenario=i, draw=0).to_numpy()
            if not np.allclose(sims["presence"].isel(scenario=i).to_numpy(), path[None]):
                raise ValueError("the benchmark scenarios must have fixed presence paths")
            started = time.perf_counter()
            pm.set_data({"presence": path})
            pp = pm.sample_posterior_predictive(trace, var_names=["rate", "count"],
                                                random_seed=args.seed + i, progressbar=False)
            pymc_per_scenario.append(time.perf_counter() - started)
            pymc_totals.append(float(pp.posterior_predictive["count"].sum("step").mean()))
    pymc_time = time.perf_counter() - started_all

    engine_totals = sims["count"].sum("month").mean("draw").to_numpy().tolist()
    engine_best = min(engine_times)
    out = {
        "draws": n_draws, "scenarios": len(scenarios), "steps": args.months,
        "engine_s": engine_best, "engine_all_s": engine_times,
        "pymc_s": pymc_time, "pymc_per_scenario_s": pymc_per_scenario,
        "ratio_pymc_over_engine": pymc_time / engine_best,
        "mean_total_engine": engine_totals, "mean_total_pymc": pymc_totals,
    }
    write_json(args.out, out)
    print(f"scenarios engine_s={engine_best:.2f} pymc_s={pymc_time:.1f} "
          f"ratio={pymc_time / engine_best:.0f}x", flush=True)


if __name__ == "__main__":
    main()
