"""The diagnostics gate a fit must pass before its numbers are used."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import arviz as az
import numpy as np

RHAT_MAX = 1.01
ESS_MIN = 400
BFMI_MIN = 0.3


@dataclass
class Diagnostics:
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    min_bfmi: float
    worst: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def diagnose(idata: az.InferenceData, var_names: list[str]) -> Diagnostics:
    """r-hat, bulk and tail ESS over `var_names`; divergences and E-BFMI over the run."""
    post = idata.posterior[var_names]
    rhat = az.rhat(post)
    ess_bulk = az.ess(post, method="bulk")
    ess_tail = az.ess(post, method="tail")

    def extreme(ds, fn) -> tuple[float, str]:
        best_name, best_val = "", None
        for name, arr in ds.data_vars.items():
            values = np.asarray(arr).ravel()
            if values.size == 0:
                continue
            i = int(np.nanargmax(values) if fn is max else np.nanargmin(values))
            val = float(values[i])
            if best_val is None or (val > best_val if fn is max else val < best_val):
                label = name if values.size == 1 else f"{name}[{i}]"
                best_name, best_val = label, val
        return (best_val if best_val is not None else float("nan")), best_name

    max_rhat, rhat_at = extreme(rhat, max)
    min_bulk, bulk_at = extreme(ess_bulk, min)
    min_tail, tail_at = extreme(ess_tail, min)
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    bfmi = az.bfmi(idata) if "energy" in stats else np.array([np.nan])
    min_bfmi = float(np.min(bfmi))
    failures = []
    if not max_rhat <= RHAT_MAX:
        failures.append(f"r-hat {max_rhat:.3f} > {RHAT_MAX} (at {rhat_at})")
    if not min_bulk >= ESS_MIN:
        failures.append(f"bulk ESS {min_bulk:.0f} < {ESS_MIN} (at {bulk_at})")
    if not min_tail >= ESS_MIN:
        failures.append(f"tail ESS {min_tail:.0f} < {ESS_MIN} (at {tail_at})")
    if divergences > 0:
        failures.append(f"{divergences} divergent transitions (need 0)")
    if not min_bfmi >= BFMI_MIN:
        failures.append(f"E-BFMI {min_bfmi:.2f} < {BFMI_MIN}")
    return Diagnostics(
        max_rhat=max_rhat, min_ess_bulk=min_bulk, min_ess_tail=min_tail, divergences=divergences,
        min_bfmi=min_bfmi, worst={"rhat": rhat_at, "ess_bulk": bulk_at, "ess_tail": tail_at},
        failures=failures,
    )
