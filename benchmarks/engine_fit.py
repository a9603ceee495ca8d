"""Worker: fit the benchmark data with the engine's own fit path and time its parts.

    python benchmarks/engine_fit.py DATA_DIR --out RESULT.json [--priors FILE]
        [--posterior POSTERIOR.nc] [--draws N --tune N --chains N]

Runs `forecast.fitting.fit` (default FitSettings unless overridden, cache disabled) in a
fresh process, so nothing is compiled beforehand (pytensor's on-disk compile cache may
still hold pieces from earlier runs). Timing, all with time.perf_counter:

- fit_total_s: the whole `fit()` call: build the graph, compile, sample, pointwise
  log-likelihood, prior and posterior predictive, diagnostics. What a user waits for.
- sample_incl_compile_s: the `pm.sample` call alone (nutpie compile + sampling +
  packing the InferenceData), the same span the peers time around their `pm.sample`.
- compile_s: `nutpie.compile_pymc_model` alone (pytensor -> numba of logp and gradient).
- sample_excl_compile_s: "compilation excluded" = nutpie's sampling loop alone (tuning +
  draws of all chains) with the logp/gradient function already compiled: PyMC records
  it as `posterior.attrs["sampling_time"]` around `nutpie.sample`. It is what a second
  fit of the already compiled model would cost, without refitting to find out.
- log_likelihood_s, prior_predictive_s, posterior_predictive_s: the extras the engine
  adds after sampling.

The timers are thin wrappers installed around pymc / nutpie functions in this process
only; the engine's code is not changed.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from pathlib import Path

T_START = time.perf_counter()

import nutpie  # noqa: E402
import pymc as pm  # noqa: E402
from _common import ENGINE_TO_PEER, diag_of, scalar_draws, summary_line, write_json  # noqa: E402

TIMINGS: dict[str, float] = {}


def _timed(module, attr: str, key: str) -> None:
    original = getattr(module, attr)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            TIMINGS[key] = TIMINGS.get(key, 0.0) + time.perf_counter() - started

    setattr(module, attr, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--priors", default=None)
    parser.add_argument("--posterior", default=None, help="write the posterior group here (netCDF)")
    parser.add_argument("--draws", type=int)
    parser.add_argument("--tune", type=int)
    parser.add_argument("--chains", type=int)
    parser.add_argument("--target-accept", type=float)
    args = parser.parse_args()

    from forecast.config import FitSettings
    from forecast.data.loaders import load_counts
    from forecast.fitting import fit

    imports_s = time.perf_counter() - T_START
    _timed(pm, "sample", "sample_incl_compile_s")
    _timed(nutpie, "compile_pymc_model", "compile_s")
    _timed(pm, "compute_log_likelihood", "log_likelihood_s")
    _timed(pm, "sample_prior_predictive", "prior_predictive_s")
    _timed(pm, "sample_posterior_predictive", "posterior_predictive_s")

    data = Path(args.data)
    dataset = load_counts(data / "counts.csv", data / "events.csv")
    overrides = {k: v for k, v in (("draws", args.draws), ("tune", args.tune), ("chains", args.chains),
                                   ("target_accept", args.target_accept)) if v is not None}
    settings = FitSettings(**overrides)
    started = time.perf_counter()
    result = fit(dataset, priors_file=args.priors, settings=settings, cache_root=None, progress=False)
    fit_total = time.perf_counter() - started

    idata, model = result.idata, result.model
    post = idata.posterior
    sampling = post.attrs.get("sampling_time")
    draws = {name: scalar_draws(post, name) for name in ENGINE_TO_PEER}
    extra = {"decapitation_volatility": scalar_draws(post, "decapitation_volatility")}
    # the peers' intercept is the log rate at presence 1; the engine's is at presence_ref
    extra["intercept_at_presence_1"] = (draws["intercept"]
                                        - draws["elasticity"] * math.log(model.presence_ref))
    params = diag_of({**draws, **extra})
    scalars = summary_line(params, list(ENGINE_TO_PEER))
    diverging = int(idata.sample_stats["diverging"].sum())
    gate = result.manifest["diagnostics"]
    out = {
        "name": "engine", "priors": args.priors or "forecast/families/latent_ar/priors.toml",
        "settings": {k: getattr(settings, k) for k in ("draws", "tune", "chains", "seed", "sampler",
                                                       "target_accept")},
        "imports_s": imports_s, "fit_total_s": fit_total,
        "sample_excl_compile_s": float(sampling) if sampling is not None else
        TIMINGS["sample_incl_compile_s"] - TIMINGS["compile_s"],
        **TIMINGS,
        "divergences": diverging, **scalars, "params": params,
        "gate": {k: gate[k] for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences",
                                      "min_bfmi", "worst", "failures", "passed")},
        "presence_ref": model.presence_ref,
        "n_grad_evals": int(idata.sample_stats["n_steps"].sum()
                            + (idata.warmup_sample_stats["n_steps"].sum()
                               if "warmup_sample_stats" in idata.groups() else 0)),
        "self_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if args.posterior:
        post.to_netcdf(args.posterior)
    write_json(args.out, out)
    print(f"engine fit_total_s={fit_total:.1f} sample_incl_compile_s={out['sample_incl_compile_s']:.1f} "
          f"compile_s={out['compile_s']:.1f} min_ess_bulk={scalars['min_ess_bulk']:.0f} "
          f"max_rhat={scalars['max_rhat']:.3f} divergences={diverging}", flush=True)


if __name__ == "__main__":
    main()
