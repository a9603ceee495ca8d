"""The report's bottom line: one plain sentence per scenario, from the totals and contrasts tables.

Medians, 80% intervals and probabilities only (means of heavy-tailed counts mislead). When the
contrasts table carries `prior_overlap` (from prior_dependence.csv: the overlap of the
contrast's distribution under the posterior with the same under the effect priors alone,
0..1) above 0.35, the mark of a weakly identified quantity, the sentence says so, naming
`prior_parameter` when the table has it; without those columns the sentences leave that out.
"""

from __future__ import annotations

import html
import math

import pandas as pd

PRIOR_OVERLAP_NOTE = 0.35
# plain names of the parameters a contrast may lean on
PLAIN_NAMES = {
    "elasticity": "the footprint effect (how attacks scale with troop numbers)",
    "decapitation_level": "the lasting effect of killings",
    "decapitation_pulse": "the retaliation wave after killings",
    "decapitation_volatility": "the change in volatility after killings",
    "militia_truce_pulse": "the effect of truces",
    "regional_war_pulse": "the effect of regional wars",
    "us_strike_pulse": "the effect of US strikes",
}


def period_words(months: list[str]) -> str:
    """"over 2027-2028" for whole calendar years, else "from 2027-03 to 2028-02"."""
    first, last = months[0], months[-1]
    if len(first) == 7 and first.endswith("-01") and last.endswith("-12"):
        return f"over {first[:4]}" if first[:4] == last[:4] else f"over {first[:4]}-{last[:4]}"
    return f"from {first} to {last}"


def _count(x: float, noun: str = "attack") -> str:
    n = round(abs(x))
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _difference(median: float, lo: float, hi: float) -> tuple[str, str]:
    """("31 fewer attacks", "80%: 5 to 120 fewer") for a difference scenario minus baseline."""
    n = round(abs(median))
    if n == 0:
        head = "about as many attacks"
    else:
        head = f"{n:,} {'fewer' if median < 0 else 'more'} attack{'' if n == 1 else 's'}"
    if round(hi) <= 0:
        interval = f"80%: {abs(round(hi)):,} to {abs(round(lo)):,} fewer"
    elif round(lo) >= 0:
        interval = f"80%: {round(lo):,} to {round(hi):,} more"
    else:
        interval = f"80%: {abs(round(lo)):,} fewer to {round(hi):,} more"
    return head, interval


def _prior_note(row: pd.Series) -> str:
    share = row.get("prior_overlap")
    if (share is None or not isinstance(share, int | float) or math.isnan(share)
            or share <= PRIOR_OVERLAP_NOTE):
        return ""
    parameter = row.get("prior_parameter")
    if isinstance(parameter, str) and parameter:
        return f"; most of this comes from the prior on {PLAIN_NAMES.get(parameter, parameter)}"
    return "; most of this comes from the prior, not the data"


def sentences(totals: pd.DataFrame, contrasts: pd.DataFrame, months: list[str]) -> list[str]:
    """One HTML sentence per scenario, in the order of the totals table."""
    period = period_words(months)
    by_scenario = {str(r["scenario"]): r for _, r in contrasts.iterrows()} if len(contrasts) else {}
    out = []
    for _, total in totals.iterrows():
        name = str(total["scenario"])
        label = f"<b>{html.escape(name)}</b>"
        if name in by_scenario:
            row = by_scenario[name]
            head, interval = _difference(row["diff_median"], row["diff_q10"], row["diff_q90"])
            out.append(f"{label}: {head} {period} than {html.escape(str(row['baseline']))} ({interval}), "
                       f"probability of fewer {row['p_fewer_than_baseline']:.2f}{_prior_note(row)}.")
        else:
            out.append(f"{label}: {_count(total['median'])} {period} (median; 80%: {round(total['q10']):,} "
                       f"to {round(total['q90']):,}).")
    return out
