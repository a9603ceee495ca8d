"""Write the bundled data's fully observed stretch as a monthly counts CSV (for the Hawkes family).

The Hawkes model needs a count for every month. In the bundled data that holds, for the
Pentagon's definition (dod_facility_attacks), from November 2023 to October 2024: every day
of those months lies in a fitted row of that definition wholly inside the month, or in a
zero row (the Pentagon's "no attacks" of 5 Feb-20 Apr 2024, which is zero on every day).
A month's count is the sum of its rows' reported counts; rows reported as approximate
ranges (e.g. 46-48 in November 2023) enter with their reported point value. Presence is the
bundled presence series.

    python scripts/build_stretch.py [OUT_CSV]     (default forecast/data/files/stretch_2023-11_2024-10.csv)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

FILES = Path(__file__).resolve().parents[1] / "forecast" / "data" / "files"
DEFINITION = "dod_facility_attacks"
FIRST, LAST = "2023-11", "2024-10"


def monthly_counts() -> pd.DataFrame:
    obs = pd.read_csv(FILES / "observations.csv", parse_dates=["start", "end"])
    obs = obs[(obs["use"] == "fit") & (obs["definition"] == DEFINITION)]
    presence = pd.read_csv(FILES / "presence.csv").set_index("month")["presence"]
    rows = []
    for month in pd.period_range(FIRST, LAST, freq="M"):
        first, last = month.start_time.normalize(), month.end_time.normalize()
        touching = obs[(obs["start"] <= last) & (obs["end"] >= first)]
        inside = touching[(touching["start"] >= first) & (touching["end"] <= last)]
        zero_spans = touching[(touching["count"] == 0) & (touching["hi"] == 0)]
        covered = set()
        for row in pd.concat([inside, zero_spans]).itertuples():
            covered |= set(pd.date_range(max(row.start, first), min(row.end, last)))
        if len(covered) != month.days_in_month or len(touching) != len(inside.index.union(zero_spans.index)):
            raise SystemExit(f"{month}: not fully observed by whole-month rows of {DEFINITION}")
        rows.append({"date": str(month), "count": int(inside["count"].sum()),
                     "presence": float(presence[str(month)]),
                     "rows": " + ".join(inside["id"]) or "(zero span)"})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else FILES / f"stretch_{FIRST}_{LAST}.csv"
    frame = monthly_counts()
    print(frame.to_string(index=False))
    frame[["date", "count", "presence"]].to_csv(out, index=False)
    print(f"wrote {out}")
