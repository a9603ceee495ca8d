"""What a run folder stores of a posterior: the variables a reader needs, named as the
report names them, with datetime time coordinates.

The sampler's InferenceData also holds its working variables: the unconstrained twins of
bounded parameters (`sigma_log__`, `rho_logodds__`), one scalar per event group or counting
definition (`decapitation_level__soleimani_2020`) beside the stacked variable the model
defines from them (`decapitation_level`, dim `decapitation_group`), and raw innovations a
family declares internal (`Family.internal_variables`). `az.summary` of such a file lists
every effect twice. The fit cache keeps the sampler's output; run folders get this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

if TYPE_CHECKING:
    import arviz as az

SAMPLE_DIMS = ("chain", "draw")
TIME_DIMS = ("bin", "month")      # time bins of the data (posterior), forecast months (scenarios)
PARAMETER_GROUPS = ("posterior", "prior")


def internal_variables(data: xr.Dataset, declared: Iterable[str] = ()) -> list[str]:
    """Variables of a posterior (or prior) group that duplicate another or are sampler-internal."""
    names = set(map(str, data.data_vars))
    drop = {n for n in names if n.endswith("__")}                    # unconstrained twins
    drop |= {n for n in declared if n in names}
    for name in names:
        member_dims = [d for d in data[name].dims if d not in SAMPLE_DIMS]
        if len(member_dims) != 1 or member_dims[0] in TIME_DIMS or member_dims[0] not in data.coords:
            continue
        for member in map(str, data[member_dims[0]].values):
            # per-member scalars stacked into `name` (`x__member`, or `x_member` for covariates)
            drop |= {f"{name}__{member}", f"{name}_{member}"} & names
    return sorted(drop)


def datetime_time(data: xr.Dataset) -> xr.Dataset:
    """Time coordinates as datetimes ("2019-01" -> 2019-01-01); the text labels stay beside them."""
    for dim in TIME_DIMS:
        if dim in data.coords and not pd.api.types.is_datetime64_any_dtype(data[dim].dtype):
            labels = [str(v) for v in data[dim].values]
            data = data.assign_coords({dim: pd.to_datetime(labels), f"{dim}_label": (dim, labels)})
    return data


def tidy_posterior(idata: az.InferenceData, declared: Iterable[str] = ()) -> az.InferenceData:
    """The InferenceData a run folder stores (see the module docstring)."""
    import arviz as az  # only when a run is written: the quick commands never load it

    declared = tuple(declared)
    groups = {}
    for group in idata.groups():
        data = idata[group]
        if group in PARAMETER_GROUPS:
            data = data.drop_vars(internal_variables(data, declared))
        groups[group] = datetime_time(data)
    return az.InferenceData(**groups)
