"""The diagnostics gate a fit must pass before its numbers are used."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import arviz as az
import numpy as np
import xarray as xr

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


def _label(arr: xr.DataArray, flat_index: int) -> str:
    """`name[coord, ...]` of one coordinate of a diagnostic array, by its coordinate values."""
    if arr.ndim == 0:
        return str(arr.name)
    index = np.unravel_index(flat_index, arr.shape)
    parts = [str(arr[dim].values[i]) if dim in arr.coords else str(i)
             for dim, i in zip(arr.dims, index, strict=True)]
    return f"{arr.name}[{', '.join(parts)}]"


def _extreme(ds: xr.Dataset, *, largest: bool) -> tuple[float, str]:
    """The worst value of a diagnostic over every coordinate, and where it is. A NaN is worse
    than any number (a coordinate whose draws never vary has an undefined r-hat, and skipping it
    would let a stuck sampler through): it is returned with every coordinate where it occurs."""
    nan_at: list[str] = []
    best_name, best_val = "", None
    for name, arr in ds.data_vars.items():
        values = np.asarray(arr, dtype=float).ravel()
        if values.size == 0:
            continue
        arr = arr.rename(name)
        nan_at += [_label(arr, int(i)) for i in np.flatnonzero(np.isnan(values))]
        if np.isnan(values).all():
            continue
        i = int(np.nanargmax(values) if largest else np.nanargmin(values))
        val = float(values[i])
        if best_val is None or (val > best_val if largest else val < best_val):
            best_name, best_val = _label(arr, i), val
    if nan_at:
        shown = ", ".join(nan_at[:5]) + (f" and {len(nan_at) - 5} more" if len(nan_at) > 5 else "")
        return float("nan"), shown
    return (best_val if best_val is not None else float("nan")), best_name


def diagnose(idata: az.InferenceData, var_names: list[str]) -> Diagnostics:
    """r-hat, bulk and tail ESS over `var_names`; divergences and E-BFMI over the run."""
    post = idata.posterior[var_names]
    # a stuck coordinate divides zero by zero inside ArviZ: the NaN is judged below, not warned
    with np.errstate(invalid="ignore", divide="ignore"):
        rhat = az.rhat(post)
        ess_bulk = az.ess(post, method="bulk")
        ess_tail = az.ess(post, method="tail")

    max_rhat, rhat_at = _extreme(rhat, largest=True)
    min_bulk, bulk_at = _extreme(ess_bulk, largest=False)
    min_tail, tail_at = _extreme(ess_tail, largest=False)
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    bfmi = az.bfmi(idata) if "energy" in stats else np.array([np.nan])
    min_bfmi = float(np.min(bfmi))
    failures = []
    if np.isnan(max_rhat):
        failures.append(f"r-hat is undefined (NaN) at {rhat_at}: its draws do not vary (a stuck "
                        "coordinate) or are not finite")
    elif not max_rhat <= RHAT_MAX:
        failures.append(f"r-hat {max_rhat:.3f} > {RHAT_MAX} (at {rhat_at})")
    for label, value, at in (("bulk", min_bulk, bulk_at), ("tail", min_tail, tail_at)):
        if np.isnan(value):
            failures.append(f"{label} ESS is undefined (NaN) at {at}")
        elif not value >= ESS_MIN:
            failures.append(f"{label} ESS {value:.0f} < {ESS_MIN} (at {at})")
    if divergences > 0:
        failures.append(f"{divergences} divergent transitions (need 0)")
    if not min_bfmi >= BFMI_MIN:
        failures.append(f"E-BFMI {min_bfmi:.2f} < {BFMI_MIN}")
    return Diagnostics(
        max_rhat=max_rhat, min_ess_bulk=min_bulk, min_ess_tail=min_tail, divergences=divergences,
        min_bfmi=min_bfmi, worst={"rhat": rhat_at, "ess_bulk": bulk_at, "ess_tail": tail_at},
        failures=failures,
    )
