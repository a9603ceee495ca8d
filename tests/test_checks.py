"""checks.csv: every observation, fitted and check, against its posterior predictive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from forecast.checks import checks_table, worst_checks
from forecast.data.loaders import load_dataset
from forecast.families import make_family

OBS = """id,start,end,count,bound,lo,hi,definition,region,use
a,2022-01-01,2022-01-31,4,exact,4,4,ref,all,fit
b,2022-02-01,2022-02-28,5,exact,5,5,ref,all,fit
c,2022-03-01,2022-03-31,6,exact,6,6,ref,all,fit
d,2022-04-01,2022-04-30,40,exact,40,40,ref,all,check
e,2022-01-01,2022-02-28,3,at_least,3,,ref,all,check
f,2022-01-01,2022-01-31,2,exact,2,2,other,all,check
"""


def test_every_row_is_checked_exactly(write):
    dataset = load_dataset(str(write("o.csv", OBS)))
    family = make_family("latent_ar", dataset)
    rate = np.full((1, 2, dataset.axis.n), 5.0)          # two draws, 5 attacks a month
    rate[0, 1] = 6.0
    posterior = xr.Dataset({"rate": (("chain", "draw", "bin"), rate)},
                           coords={"bin": dataset.axis.labels})
    table = checks_table(family, posterior).set_index("id")
    assert list(table.index) == ["a", "b", "c", "d", "e", "f"]
    assert set(table["use"]) == {"fit", "check"}
    expected = 0.5 * (stats.poisson.pmf(4, 5.0) + stats.poisson.pmf(4, 6.0))
    assert np.isclose(table.loc["a", "p_inside"], expected, rtol=1e-9)
    # 40 in a month where 5-6 are expected: far in the upper tail, outside the central 95%
    assert table.loc["d", "outside_central_95"] and table.loc["d", "tail_probability"] < 1e-10
    # "at least 3" over two months (mean 10-12): almost certainly inside
    assert table.loc["e", "p_inside"] > 0.99 and not table.loc["e", "outside_central_95"]
    # a definition with no fitted ratio is listed, not predicted, and says why
    assert pd.isna(table.loc["f", "p_inside"]) and "no ratio" in table.loc["f", "note"]
    assert worst_checks(table.reset_index(), 1)["id"].tolist() == ["d"]
