"""Published tables: quantiles and probabilities with Monte Carlo errors, nothing a few draws decide."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.scenarios import summaries


def _draws(chains: int = 4, per_chain: int = 500, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    n = chains * per_chain
    rate = rng.lognormal(1.0, 1.5, (2, n, 12))
    rate[0, 0, :] = 1e5          # one explosive draw: it must not move any published number
    counts = rng.poisson(rate)
    data = xr.Dataset({"rate": (("scenario", "draw", "month"), rate),
                       "count": (("scenario", "draw", "month"), counts),
                       "presence": (("scenario", "draw", "month"), np.full((2, n, 12), 2.0))},
                      coords={"scenario": ["a", "b"], "draw": np.arange(n),
                              "month": [f"2027-{m:02d}" for m in range(1, 13)]},
                      attrs={"chains": chains})
    data["baseline"] = ("scenario", ["", "a"])
    return data


def test_tables_have_no_means_and_every_statistic_has_its_mcse():
    draws = _draws()
    for table in (summaries.total_summary(draws), summaries.contrasts(draws),
                  summaries.monthly_summary(draws), summaries.exceedance(draws)):
        assert not [c for c in table.columns if "mean" in c]
        stats = [c for c in table.columns if c.startswith(("q", "median", "diff_", "ratio_", "p_", "rate_"))
                 and not c.endswith("_mcse") and c != "ratio_defined_share"]
        assert stats and all(f"{c}_mcse" in table.columns for c in stats), stats
        assert (table[[f"{c}_mcse" for c in stats]].to_numpy() >= 0).all()


def test_one_explosive_draw_does_not_move_the_totals():
    draws = _draws()
    tame = draws.copy(deep=True)
    tame["count"][0, 0, :] = 3
    a = summaries.total_summary(draws).set_index("scenario")
    b = summaries.total_summary(tame).set_index("scenario")
    for col in ("median", "q10", "q90", "q02_5"):
        assert abs(a.at["a", col] - b.at["a", col]) <= 3 * a.at["a", f"{col}_mcse"] + 1
