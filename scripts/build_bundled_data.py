"""Rebuild the bundled dataset (forecast/data/files/*.csv) from the public fact pack.

    python scripts/build_bundled_data.py FACT_PACK_DIR

FACT_PACK_DIR holds monthly_attacks.csv, period_totals.csv, running_tallies.csv,
events.csv and troop_levels.csv. Every curation choice is written down below as data
(which rows enter the likelihood, which serve as checks, which counting definition a
row belongs to, how an approximate figure becomes an interval) with its reason, and
every output row keeps the citation of the fact it came from. The rules are explained
in forecast/data/files/README.md.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "forecast" / "data" / "files"

REFERENCE = "dod_facility_attacks"

# Counting definitions used by the bundled observations. `region` is what the counter
# covers; a ratio below or above 1 against the reference absorbs both coverage and scope.
DEFINITIONS = [
    (REFERENCE, "iraq+syria", "Pentagon/DoD count of rocket, drone, mortar and close-range "
     "ballistic-missile strikes on US or coalition facilities (reference definition, ratio 1). "
     "Individually reported attacks (event lists) are lower bounds of this count."),
    ("winep_base_strikes", "iraq", "Washington Institute (M. Knights) indirect-fire attacks on "
     "US bases and sites in Iraq, 2020-21; convoys excluded."),
    ("afp_rocket_attacks", "iraq", "AFP running count of rocket attacks on bases hosting US "
     "troops or diplomats in Iraq, 2019-20."),
    ("cjtf_oir_indirect_fire", "iraq+syria", "Coalition (CJTF-OIR) count of indirect-fire "
     "attacks on coalition forces, as reported by USIP."),
    ("jinsa", "iraq+syria", "JINSA tracker of attacks on US personnel; counts more events than "
     "the Pentagon."),
    ("sohr_syria", "syria", "Syrian Observatory for Human Rights, Syria only, broader count."),
    ("winep_militia_monitor", "iraq+syria", "WINEP Militia Spotlight/Monitor count after 7 Oct "
     "2023; counts more events than the Pentagon."),
    ("convoy_attacks", "iraq", "Attacks on contractor logistics convoys: outside the target "
     "definition."),
    ("broad_attacks", "iraq+syria", "Broad tallies mixing rockets, roadside bombs and convoys, or "
     "attacks on 'US interests'; outside the target definition."),
]

# Approximate figures ("about 170") become the interval count +- half-width, with
# half-width max(2, ceil(5% of the count)), unless a row below states its own interval.
def approx_interval(count: int) -> tuple[int, int]:
    half = max(2, math.ceil(0.05 * count))
    return max(0, count - half), count + half


# Monthly rows (monthly_attacks.csv) with status measured, derived or lower_bound.
# Interpolated and unknown months never become observations. Each entry:
# month -> (use, definition, start, end, bound override, reason).
MONTHLY = {
    "2019-05": ("fit", REFERENCE, None, None, None, "event list: at least 1 attack"),
    "2019-06": ("fit", REFERENCE, None, None, None, "event list: at least 4 attacks"),
    "2021-01": ("check", "winep_base_strikes", None, None, None,
                "overlaps the fitted WINEP 22 Jan-27 Jun 2021 total"),
    "2021-02": ("check", "winep_base_strikes", None, None, None,
                "inside the fitted WINEP 22 Jan-27 Jun 2021 total"),
    "2021-03": ("check", "winep_base_strikes", None, None, None,
                "inside the fitted WINEP 22 Jan-27 Jun 2021 total"),
    "2021-07": ("fit", REFERENCE, None, None, None, "event list: at least 7 attacks"),
    "2021-09": ("fit", REFERENCE, None, None, None, "event list: at least 1 attack"),
    "2022-05": ("check", REFERENCE, None, None, None,
                "same fact as the fitted NBC May 2022 period row"),
    "2022-08": ("fit", REFERENCE, None, None, None, "event list: at least 4 attacks"),
    "2023-01": ("fit", REFERENCE, None, None, None, "event list: at least 1 attack"),
    "2023-03": ("fit", REFERENCE, "2023-03-01", "2023-03-28", None,
                "Kurilla vs Austin tallies; ends 28 Mar where the ~6 derived row starts"),
    "2023-10": ("fit", REFERENCE, "2023-10-17", "2023-10-31", None,
                "Pentagon count 17-31 Oct (the wave's tally starts 17 Oct)"),
    "2023-11": ("fit", REFERENCE, None, None, None, "Pentagon tallies, approx +-1"),
    "2023-12": ("fit", REFERENCE, None, None, None, "derived from Pentagon tallies, approx +-3"),
    "2024-01": ("fit", REFERENCE, None, None, None,
                "JINSA month total, consistent with the Pentagon tally of 30 Jan"),
    "2024-02": ("fit", REFERENCE, "2024-02-01", "2024-02-04", None,
                "last attack of the wave was 4 Feb; the zero row starts 5 Feb"),
    "2024-03": ("check", REFERENCE, None, None, None,
                "inside the fitted zero row 5 Feb-20 Apr 2024"),
    "2024-04": ("fit", REFERENCE, "2024-04-21", "2024-04-30", None,
                "the two attacks of 21-22 Apr; the zero row covers 1-20 Apr"),
    "2024-05": ("fit", REFERENCE, None, None, None, "pause stated by JINSA and Lead IG"),
    "2024-06": ("fit", REFERENCE, None, None, None, "pause stated by JINSA and Lead IG"),
    "2024-07": ("fit", REFERENCE, None, None, None, "event list: at least 5 attacks"),
    "2024-08": ("fit", REFERENCE, None, None, None, "event list: at least 2 attacks"),
    "2024-09": ("fit", REFERENCE, None, None, None, "JINSA Syria-only count: a lower bound"),
    "2024-10": ("fit", REFERENCE, None, None, None, "JINSA Syria-only count: a lower bound"),
    "2024-11": ("fit", REFERENCE, None, None, None, "event list: at least 1 attack"),
    "2025-06": ("fit", REFERENCE, None, None, None, "event list: at least 1 attack"),
}

# period_totals.csv rows keyed by (start, end, count): use, definition, bound/interval, reason.
PERIODS = {
    ("2019-10-28", "2019-12-27", 11): ("fit", "afp_rocket_attacks", None, "AFP running count"),
    ("2020-01-01", "2020-07-27", 27): ("check", "winep_base_strikes", None,
                                       "overlaps the fitted WINEP Q3 2020 total in July"),
    ("2020-01-01", "2020-07-27", 51): ("check", "convoy_attacks", None,
                                       "convoy attacks are outside the target definition"),
    ("2020-07-01", "2020-09-30", 33): ("fit", "winep_base_strikes", None, "quarter total"),
    ("2020-10-01", "2020-12-31", 4): ("fit", "winep_base_strikes", None, "quarter total"),
    ("2021-01-22", "2021-06-27", 24): ("fit", "winep_base_strikes", None, "period total"),
    ("2022-02-01", "2022-04-30", 7): ("fit", REFERENCE, None, "DoD attack list via NBC"),
    ("2021-10-01", "2022-05-31", 29): ("check", REFERENCE, None,
                                       "split into disjoint fitted rows (Oct-Jan, Feb-Apr, May)"),
    ("2022-05-01", "2022-05-31", 7): ("fit", REFERENCE, None, "DoD attack list via NBC"),
    ("2022-01-01", "2022-08-31", 30): ("fit", "cjtf_oir_indirect_fire", None,
                                       "coalition indirect-fire count, own reporting ratio"),
    ("2021-01-01", "2023-03-23", 78): ("check", REFERENCE, None,
                                       "long cumulative total overlapping finer fitted rows"),
    ("2021-01-20", "2023-03-28", 83): ("check", REFERENCE, None,
                                       "long cumulative total overlapping finer fitted rows"),
    ("2023-03-29", "2023-10-16", 6): ("fit", REFERENCE, (3, 10),
                                      "derived in the fact pack as ~150-61-83, not stated by a "
                                      "source: wide interval 3-10"),
    ("2023-11-24", "2023-11-28", 0): ("check", REFERENCE, None,
                                      "inside the fitted November 2023 month"),
    ("2024-02-05", "2024-04-20", 0): ("fit", REFERENCE, None, "Pentagon: no attacks"),
    ("2023-10-19", "2024-09-28", 135): ("check", "sohr_syria", None,
                                        "Syria-only broader count; its ratio is not identified "
                                        "by any other row"),
    ("2023-10-17", "2024-10-22", 204): ("fit", "jinsa", None,
                                        "JINSA lower bound; informs Apr-Oct 2024 through the "
                                        "JINSA reporting ratio"),
}
# The remaining period_totals rows are the Pentagon running tallies of the Oct 2023-Feb 2024
# wave, all cumulative from 17 Oct: checks against the fitted monthly rows.
PENTAGON_WAVE_REASON = "cumulative Pentagon tally, nested in the fitted monthly rows"

# Derived rows from AFP's running count (running_tallies.csv): successive differences of
# one counter are counts over disjoint spans. AFP's window start is given only to the
# month ("since October"), so each difference gets an interval.
AFP_DIFFERENCES = [
    # start, end, count, lo, hi, explanation
    ("2019-12-28", "2020-02-16", 8, 6, 10, "AFP 19th attack on 16 Feb 2020 minus 11 by 27 Dec 2019"),
    ("2020-02-17", "2020-03-02", 1, 0, 2, "AFP 20th attack on 2 Mar 2020 minus 19th on 16 Feb"),
    ("2020-03-03", "2020-05-19", 8, 6, 10, "AFP 28th attack about 19 May 2020 minus 20th on 2 Mar"),
]

# Other running tallies kept as checks (not in period_totals.csv), by file row number.
TALLY_CHECKS = {
    6: ("broad_attacks", "ISW count of attacks on US and coalition personnel; one row only"),
    34: ("winep_militia_monitor", "WINEP Militia Monitor count; one comparable row only"),
    42: ("broad_attacks", "Lead IG counts attacks on 'US interests'"),
    49: ("jinsa", "nested in the fitted JINSA row of 22 Oct 2024"),
}

# Effect group of each modelled event (events.csv): events in one group share parameters.
DECAPITATION_GROUPS = {
    "2020-01-03": "soleimani_2020",
    "2024-01-04": "militia_commanders_2024",
    "2024-02-07": "militia_commanders_2024",
}


def build_observations(facts: Path) -> pd.DataFrame:
    rows: list[dict] = []
    monthly = pd.read_csv(facts / "monthly_attacks.csv", dtype=str, keep_default_na=False)
    for number, rec in enumerate(monthly.to_dict("records"), start=2):
        if rec["status"] not in ("measured", "derived", "lower_bound"):
            continue
        use, definition, start, end, _, reason = MONTHLY[rec["month"]]
        month = pd.Period(rec["month"], "M")
        count = int(rec["attacks"])
        if rec["status"] == "lower_bound" and rec["high"]:
            # the report's judgement of the full month: counted events plus those missed
            bound, lo, hi = "approx", int(rec["low"]), int(rec["high"])
        elif rec["status"] == "lower_bound":
            bound, lo, hi = "at_least", int(rec["low"]), ""
        elif rec["low"] == rec["high"] == rec["attacks"]:
            bound, lo, hi = "exact", count, count
        else:
            bound, lo, hi = "approx", int(rec["low"]), int(rec["high"])
        rows.append({
            "start": start or month.start_time.strftime("%Y-%m-%d"),
            "end": end or month.end_time.strftime("%Y-%m-%d"),
            "count": count, "bound": bound, "lo": lo, "hi": hi,
            "definition": definition,
            "region": "iraq+syria" if definition == REFERENCE else "iraq",
            "use": use, "reason": reason,
            "origin": f"monthly_attacks.csv:{number} ({rec['status']})",
            "source": rec["source"], "url": "", "note": rec["note"],
        })
    periods = pd.read_csv(facts / "period_totals.csv", dtype=str, keep_default_na=False)
    for number, rec in enumerate(periods.to_dict("records"), start=2):
        key = (rec["start"], rec["end"], int(rec["count"]))
        count = int(rec["count"])
        if key in PERIODS:
            use, definition, interval, reason = PERIODS[key]
        else:
            use, definition, interval, reason = "check", rec["definition"], None, PENTAGON_WAVE_REASON
        if rec["bound"] == "at_least":
            bound, lo, hi = "at_least", count, ""
        elif rec["bound"] == "approx":
            bound = "approx"
            lo, hi = interval or approx_interval(count)
        else:
            bound, lo, hi = "exact", count, count
        rows.append({
            "start": rec["start"], "end": rec["end"], "count": count, "bound": bound,
            "lo": lo, "hi": hi, "definition": definition, "region": rec["region"],
            "use": use, "reason": reason, "origin": f"period_totals.csv:{number}",
            "source": rec["source"], "url": rec["url"], "note": rec["note"],
        })
    # The NBC Oct 2021-May 2022 list minus its Feb-Apr and May parts.
    rows.append({
        "start": "2021-10-01", "end": "2022-01-31", "count": 15, "bound": "exact", "lo": 15,
        "hi": 15, "definition": REFERENCE, "region": "iraq+syria", "use": "fit",
        "reason": "NBC total 29 (Oct 2021-May 2022) minus Feb-Apr 7 minus May 7",
        "origin": "period_totals.csv:9,8,10 (difference)",
        "source": "NBC News 2022-06-10 (via theinteldrop / usanews / UANI)",
        "url": "https://www.theinteldrop.org/2022/06/10/us-forces-in-syria-and-iraq-under-attack-is-the-us-lying-about-casualties/",
        "note": "derived: 29 - 7 - 7; the list may start on 20 Oct 2021 (al-Tanf drone attack)",
    })
    tallies = pd.read_csv(facts / "running_tallies.csv", dtype=str, keep_default_na=False)
    for start, end, count, lo, hi, why in AFP_DIFFERENCES:
        rows.append({
            "start": start, "end": end, "count": count, "bound": "approx", "lo": lo, "hi": hi,
            "definition": "afp_rocket_attacks", "region": "iraq", "use": "fit",
            "reason": "difference of one counter's running totals",
            "origin": "running_tallies.csv (difference)", "source": "AFP running count",
            "url": "", "note": why,
        })
    for number, (definition, reason) in TALLY_CHECKS.items():
        rec = tallies.iloc[number - 2]
        start = rec["window_start"] if len(rec["window_start"]) == 10 else rec["window_start"] + "-01"
        count = int(rec["cumulative_count"])
        at_least = "at least" in rec["what_is_counted"]
        rows.append({
            "start": start, "end": rec["date"], "count": count,
            "bound": "at_least" if at_least else "exact", "lo": count,
            "hi": "" if at_least else count, "definition": definition, "region": "iraq+syria",
            "use": "check", "reason": reason, "origin": f"running_tallies.csv:{number}",
            "source": f"{rec['counter']} via {rec['source_outlet']}", "url": rec["source_url"],
            "note": rec["what_is_counted"],
        })
    frame = pd.DataFrame(rows).sort_values(["start", "end", "definition"], kind="stable")
    frame.insert(0, "id", [f"obs{i:03d}" for i in range(1, len(frame) + 1)])
    return frame


def build_events(facts: Path) -> pd.DataFrame:
    events = pd.read_csv(facts / "events.csv", dtype=str, keep_default_na=False)
    names = []
    for rec in events.to_dict("records"):
        if rec["kind"] == "decapitation":
            names.append(DECAPITATION_GROUPS[rec["date"]])
        else:
            names.append(rec["kind"])
    events.insert(4, "name", names)
    return events


# Monthly US troops in Iraq and Syria (thousands): (first month, last month, iraq, syria,
# basis). Months between knots are filled as stated in `basis`.
PRESENCE_SEGMENTS = [
    ("2019-01", "2020-01", 5.0, 1.0,
     "Iraq ~5,000 stated May and Dec 2019; Syria not stated before Sep 2020: assumed ~1,000"),
    ("2020-02", "2020-08", 5.2, 1.0,
     "Iraq ~5,200 (AFP, McKenzie 9 Sep 2020); Syria assumed ~1,000"),
    ("2020-09", "2020-09", 4.1, 0.7,
     "Iraq cut from 5,200 to 3,000 during September: month average; Syria >700 (McKenzie)"),
    ("2020-10", "2020-11", 3.0, 1.0, "Iraq 3,000 (Miller 17 Nov 2020); Syria ~1,000"),
    ("2020-12", "2020-12", 2.75, 1.0, "Iraq cut to 2,500 by 15 Jan 2021: midway"),
    ("2021-01", "2024-09", 2.5, 0.9, "~2,500 Iraq and ~900 Syria stated 2021-Sep 2024"),
    ("2024-10", "2024-11", 2.5, 1.5,
     "Syria: 2,000 disclosed in Dec 2024 had been present 'for months': midway 900-2,000"),
    ("2024-12", "2025-04", 2.5, 2.0, "Iraq ~2,500 (Ryder, Parnell); Syria ~2,000 disclosed"),
    ("2025-05", "2025-07", 2.5, 1.5,
     "Syria consolidation to <1,000 announced Apr 2025 'in the coming months': midway"),
    ("2025-08", "2025-08", 2.5, 1.0,
     "Iraq drawdown from Ain al-Asad/Victory begins 17-24 Aug; Syria <1,000 after ~600 left"),
    ("2025-09", "2025-12", 2.0, 1.0,
     "Iraq: AP 'reduction of roughly 20%' (Iraqi sources: <500 at Erbil; unresolved); "
     "Syria <1,000 (upper bound)"),
]


def build_presence() -> pd.DataFrame:
    rows = []
    for first, last, iraq, syria, basis in PRESENCE_SEGMENTS:
        for month in pd.period_range(first, last, freq="M"):
            rows.append({"month": str(month), "iraq": iraq, "syria": syria,
                         "presence": round(iraq + syria, 3), "basis": basis})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts", type=Path, help="the fact pack folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    build_observations(args.facts).to_csv(args.out / "observations.csv", index=False)
    build_events(args.facts).to_csv(args.out / "events.csv", index=False)
    build_presence().to_csv(args.out / "presence.csv", index=False)
    pd.DataFrame(DEFINITIONS, columns=["definition", "region", "description"]).assign(
        reference=lambda f: f["definition"] == REFERENCE
    ).to_csv(args.out / "definitions.csv", index=False)
    print(f"wrote the bundled dataset to {args.out}")


if __name__ == "__main__":
    main()
