"""The 2026 hindcast: what a forecaster with the data of 31 Dec 2025 would have said about 2026.

    python scripts/hindcast_2026.py [--out reports/2026-12-02-hindcast-2026] [--seed N]

1. Fits the default model to the bundled data as published before 1 January 2026 (rows by
   their `published` date, events by their date; the same vintage rule as the backtest).
2. Simulates, from that fit, January-June 2026 under three scenarios:
   - `what_happened`: presence as it moved (the bundled presence of Jan-Jun 2026: the exit
     from federal Iraq in January, the Syria drawdown from March), the war from 28 February
     to the 7 April ceasefire (a regional war, effect of the fitted regional-war group), the
     killing of Iran's leadership on 28 February (a new killing drawn from the kind's
     distribution) and the US strikes on Iraqi militia sites of 28 February - 2 March;
   - `status_quo_2026` and `regional_war_2026`: the bundled 2026 scenarios as they stood on
     24 November 2026 (presence held at 3,000; a war from April), copied into the output.
3. Scores every 2026 observation of the bundled data that the model can predict (a count of
   attacks on US forces by a counter with a reporting ratio; for a counter that first
   appears in 2026 the ratio is drawn from its prior, which is all a forecaster then had)
   against what was reported: predictive median and 80% interval, P(inside the reported
   interval or above the floor), its log. Counts the model cannot predict (militia claims,
   tallies of all targets) are listed as context.

Writes OUT/predictions.csv, OUT/scenarios/*.toml, OUT/fit_manifest.json and OUT/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.config import DEFAULT_SEED, FitSettings
from forecast.core.predictive import PoissonMixture, quantiles
from forecast.data.loaders import load_bundled
from forecast.evaluation.truncate import truncate
from forecast.families import make_family
from forecast.fitting import fit
from forecast.scenarios.spec import parse_scenario

REPO = Path(__file__).resolve().parents[1]
ORIGIN = "2026-01"
MONTHS = 6
OLD_SCENARIOS = {   # the bundled 2026 scenarios of 24 November 2026 (git show 7cf3f6f:scenarios/...)
    "status_quo_2026": """name = "status_quo_2026"
description = '''US presence held at its end-2025 level (about 2,000 in Iraq and 1,000 in Syria);
no new killings, truces or wars.'''

[horizon]
start = "2026-01"
months = 6

PRESENCE_2026
""",
    "regional_war_2026": """name = "regional_war_2026"
description = '''A new regional war (on the scale of the Gaza war of October 2023) from April 2026
until a date between June and December 2026; presence held.'''

[horizon]
start = "2026-01"
months = 6

PRESENCE_2026

[[events]]
kind = "regional_war"
date = "2026-04-01"
end = { uniform = ["2026-06-01", "2026-12-31"] }
name = "regional_war_2026"
effect = "regional_war"
""",
}


# the old scenarios' 3,000 troops: a total for a model of the total, else by region as their
# descriptions say (Jordan keeps its last value)
PRESENCE_TOTAL = '[presence]\npoints = [{ date = "2026-01", value = 3.0 }]'
PRESENCE_BY_REGION = ('[presence.iraq]\npoints = [{ date = "2026-01", value = 2.0 }]\n\n'
                      '[presence.syria]\npoints = [{ date = "2026-01", value = 1.0 }]')


def old_scenarios(regional: bool) -> dict[str, str]:
    return {name: text.replace("PRESENCE_2026", PRESENCE_BY_REGION if regional else PRESENCE_TOTAL)
            for name, text in OLD_SCENARIOS.items()}


def _path(table: str, values: list[float], full, first: int) -> str:
    points = []
    for i, value in zip(range(first, first + MONTHS), values):
        points += [f'{{ date = "{full.axis.starts[i].date()}", value = {value} }}',
                   f'{{ date = "{full.axis.ends[i].date()}", value = {value} }}']
    return f"[{table}]\npoints = [{', '.join(points)}]\n\n"


def what_happened(full, regional: bool) -> str:
    """The scenario of what happened, from the bundled data's own 2026 presence and events
    (per region for a model of the regions)."""
    first = full.axis.index_of(pd.Timestamp(ORIGIN))
    if regional:
        by_region = np.asarray(full.presence_by_region, float)[first:first + MONTHS]
        paths = "".join(_path(f"presence.{region}", [float(v) for v in by_region[:, j]], full, first)
                        for j, region in enumerate(full.regions))
    else:
        paths = _path("presence", [float(v) for v in full.presence[first:first + MONTHS]], full, first)
    return (
        'name = "what_happened"\n'
        'description = "Presence as it moved (exit from federal Iraq in January, Syria drawdown from '
        'March), the war of 28 February - 7 April, the killing of Iran\'s leadership on 28 February '
        'and the US strikes of 28 February - 2 March."\n\n'
        f'[horizon]\nstart = "{ORIGIN}"\nmonths = {MONTHS}\n\n'
        + paths +
        '[[events]]\nkind = "regional_war"\ndate = "2026-02-28"\nend = "2026-04-07"\n'
        'name = "war_2026"\neffect = "regional_war"\n\n'
        '[[events]]\nkind = "decapitation"\ndate = "2026-02-28"\nname = "iran_leadership_2026"\n\n'
        '[[events]]\nkind = "us_strike"\ndate = "2026-02-28"\nname = "strikes_2026"\neffect = "us_strike"\n'
    )


def ratio_draws(family, posterior, definition: str, full_priors, full_definitions: list[str], n: int,
                rng) -> np.ndarray | None:
    """The counter's reporting ratio: its posterior if fitted before 2026, else its prior."""
    if definition == family.dataset.reference:
        return np.ones(n)
    if definition not in full_definitions:
        return None     # a count of something else (claims, all targets): no ratio to attacks on US forces
    if "log_ratio" in posterior and definition in posterior["log_ratio"]["definition"].values:
        return np.exp(posterior["log_ratio"].sel(definition=definition).values.ravel())
    spec = full_priors.get("reporting_ratio", definition)
    if spec.dist != "Normal":
        return None
    return np.exp(rng.normal(spec.params["mu"], spec.params["sigma"], n))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "reports" / "2026-12-02-hindcast-2026"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        sys.exit(f"{out} exists; choose a new --out")

    full = load_bundled()
    known = truncate(full, full.axis.index_of(pd.Timestamp(ORIGIN)))
    result = fit(known, settings=FitSettings(seed=args.seed), cache_root=REPO / "runs" / ".cache",
                 progress=False)
    family, posterior = result.model, result.idata.posterior
    print(f"fit: {known.name}, {len(known.fitted)} fitted rows; diagnostics {result.manifest['diagnostics']}")
    full_family = make_family(family.name, full)
    full_priors = full_family.priors
    regional = bool(getattr(family, "regional", False)) and full.regional
    texts = {"what_happened": what_happened(full, regional), **old_scenarios(regional)}
    sim = family.simulator(posterior)
    rng = np.random.default_rng(args.seed)
    rows = full.observations[full.observations["start"] >= pd.Timestamp(ORIGIN)]
    rows = rows[rows["end"] < pd.Timestamp(ORIGIN) + pd.DateOffset(months=MONTHS)]
    records = []
    for name, text in texts.items():
        scenario = parse_scenario(text, f"{name}.toml")
        simulated = sim.simulate(scenario, args.seed)
        background, rate = simulated["background"], simulated["future_rate"]
        for row in rows.itertuples():
            if regional:    # the rate of the regions the row counts
                cover = full.region_cover(full.observations.loc[[row.Index]])[0]
                rate = (simulated["future_rate_by_region"] * cover[None, None, :]).sum(axis=2)
            ratio = ratio_draws(family, posterior, row.definition, full_priors, full.definitions,
                                rate.shape[0], rng)
            record = {"scenario": name, "id": row.id, "use": row.use, "definition": row.definition,
                      "start": row.start.date(), "end": row.end.date(), "bound": row.bound,
                      "reported_lo": row.lo, "reported_hi": row.hi}
            if ratio is None:
                record["note"] = "not predictable: no reporting ratio for this count"
                records.append(record)
                continue
            mix = PoissonMixture(ratio * background.span_share(rate, row.start, row.end))
            q10, median, q90 = (float(v) for v in quantiles(mix, np.array([0.1, 0.5, 0.9])))
            p = float(np.exp(mix.log_interval(row.lo, row.hi)))
            record |= {"predicted_median": median, "predicted_q10": q10, "predicted_q90": q90,
                       "p_reported": p, "log_score": float(np.log(max(p, 1e-300))),
                       "ratio_from": "posterior" if row.definition in known.definitions else "prior"}
            records.append(record)
    table = pd.DataFrame(records)
    out.mkdir(parents=True)
    (out / "scenarios").mkdir()
    for name, text in texts.items():
        (out / "scenarios" / f"{name}.toml").write_text(text, encoding="utf-8")
    table.to_csv(out / "predictions.csv", index=False, float_format="%.4f", lineterminator="\n")
    (out / "fit_manifest.json").write_text(json.dumps(result.manifest, indent=1, default=str),
                                           encoding="utf-8")
    print(table.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
