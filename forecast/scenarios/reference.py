"""The scenario file reference: every key with its type, default and an example.

`docs/scenarios.md` is generated from this module (`forecast scenario docs`), and the tests
check that the keys listed here are exactly the keys `spec.py` accepts, that every example
parses, and that the committed file equals the generated one, so the reference cannot
drift from the schema. `template()` is what `forecast scenario new` writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from forecast.core.effects import MODELLED_KINDS
from forecast.scenarios import spec


@dataclass(frozen=True)
class KeyDoc:
    key: str             # dotted path as the error messages name it; [] marks a list item
    type: str
    default: str         # "required" when the key must be given
    meaning: str
    example: str         # TOML, as it appears in a file (inside its table)


def _kinds() -> str:
    return ", ".join(f"`{k}`" for k in spec.EVENT_KINDS)


def _ending_kinds() -> str:
    return " and ".join(f"`{k}`" for k, e in MODELLED_KINDS.items() if e.ends_with_event)


DATE = "date: `\"YYYY-MM\"` (its first day), `\"YYYY-MM-DD\"` or `{ uniform = [date, date] }`"
VALUE = "number or distribution"

KEYS: tuple[KeyDoc, ...] = (
    KeyDoc("name", "text: letters, digits, `_` or `-`, at most 64", "required",
           "The scenario's name in tables, charts and contrasts; unique among the files run together.",
           'name = "truce_then_killing"'),
    KeyDoc("description", "text, at most 2000 characters", '`""`',
           "What the scenario assumes, in plain words; the report shows it under the scenario's name.",
           'description = """A truce in mid-2027, then a commander killed."""'),
    KeyDoc("baseline", "text: the `name` of another scenario", "none (no contrast)",
           "The scenario this one is contrasted with, draw by draw. Its file must be run together with "
           "this one; `forecast validate` checks it when given or when it lies beside this file.",
           'baseline = "status_quo"'),
    KeyDoc("horizon", "table", "required", "The forecast months.", "[horizon]"),
    KeyDoc("horizon.start", "date: `\"YYYY-MM\"` or `\"YYYY-MM-DD\"`", "the month after the data",
           "The first forecast month; after the end of the data. Scenarios run together share their "
           "horizon.", 'start = "2027-01"'),
    KeyDoc("horizon.months", f"whole number, 1 to {spec.MAX_HORIZON}", "required",
           "How many months to forecast from `start`.", "months = 24"),
    KeyDoc("presence.REGION", "table with `points`, one per region whose troops change", "each region "
           "keeps the data's last value",
           "US troops in one region of the data (bundled: `iraq`, `syria`, `jordan`), in thousands, "
           "over the horizon. The path is linear between points and flat after the last one; before "
           "the first point it runs from the region's last value. A model of the total (e.g. "
           "`--model latent_ar`) sees the change these paths make in the regions its total counts "
           "(bundled: Iraq + Syria).", "[presence.iraq]"),
    KeyDoc("presence", "table", "troops stay at the data's last value",
           "For data without regions only: the troop total, in the data's units, with `points` as "
           "below (on data with regions, write `[presence.REGION]` tables instead).", "[presence]"),
    KeyDoc("presence.points", "list of `{ date, value }` tables (1 to 1000)",
           "required in `[presence]` and `[presence.REGION]`",
           "The points of the path, in date order (a point with an uncertain date must end before "
           "the next one starts), none before the horizon's start. Values must not be negative.",
           'points = [{ date = "2027-01", value = 1.5 }, { date = "2027-09", value = 0.1 }]'),
    KeyDoc("presence.points[].date", DATE, "required",
           "When the path reaches the value; a uniform range draws the date per posterior draw.",
           'date = { uniform = ["2027-04", "2027-09"] }'),
    KeyDoc("presence.points[].value", f"{VALUE} (not below 0: uniform, triangular or lognormal)",
           "required", "Thousands of troops at that date.", "value = { uniform = [0.3, 0.7] }"),
    KeyDoc("covariates.NAME", "table with `points`, like `[presence]`", "the covariate stays at its "
           "last value", "A path for another covariate of the data (NAME is its column). The bundled "
           "data has none.", '[covariates.oil_price]\npoints = [{ date = "2027-01", value = 80.0 }]'),
    KeyDoc("events", "list of `[[events]]` tables (at most 100)", "none",
           "New events in the horizon; each acts as the fitted events of its kind do.", "[[events]]"),
    KeyDoc("events[].kind", f"one of {_kinds()}", "required",
           "The kind of event; the data must contain events of that kind (the fit needs their decay).",
           'kind = "decapitation"'),
    KeyDoc("events[].date", DATE, "required", "When the event happens; on or after the horizon's start.",
           'date = "2027-10-15"'),
    KeyDoc("events[].end", DATE, "none",
           f"When a state ends ({_ending_kinds()}): the pulse stops there. Other kinds refuse it (a "
           "killing's or a strike's effect starts on its date and decays).",
           'end = { uniform = ["2027-04-01", "2027-06-30"] }'),
    KeyDoc("events[].name", "text: letters, digits, `_` or `-`, at most 64", '`"scenario_<kind>"`',
           "A label for the event in charts.", 'name = "commander_killed_2027"'),
    KeyDoc("events[].effect", "text (a fitted effect group of the kind) or a table of priors",
           "a new draw from the kind's distribution",
           "Where the event's effect comes from. Without it, the event is a new event of its kind: "
           "its effect is drawn, draw by draw, from the distribution the fit learned over the kind's "
           "past groups (mean and spread, partially pooled). A group name ties it to that group's "
           "posterior (`forecast scenario docs` lists those of the bundled data); a table states "
           "priors.",
           'effect = "soleimani_2020"'),
    KeyDoc("events[].effect.pulse", VALUE, "required in a prior table",
           "Jump of the log attack rate at the event, decaying at the kind's fitted rate.",
           "pulse = { normal = [0.5, 0.3] }"),
    KeyDoc("events[].effect.level", VALUE, "0",
           "Lasting shift of the log attack rate (decapitations only).", "level = { normal = [0.0, 0.3] }"),
    KeyDoc("events[].effect.volatility", VALUE, "the current volatility regime continues",
           "Log volatility of the latent rate in the regime the killing opens, against the volatility "
           "before any killing (decapitations only; models with a latent volatility only). Regimes "
           "replace each other; they do not add up.", "volatility = 0.2"),
    KeyDoc("events[].regions", "list of region names of the data", "every region",
           "Where the event acts (a model of the total ignores it and refuses a list that is not "
           "every region).", 'regions = ["iraq"]'),
    KeyDoc("shocks", "list of `[[shocks]]` tables (at most 100)", "none",
           "Multipliers on a model parameter from a date, for what no event kind describes.",
           "[[shocks]]"),
    KeyDoc("shocks[].parameter", "text: a shock of the chosen model (below)", "required",
           "What the factor multiplies.", 'parameter = "rate_multiplier"'),
    KeyDoc("shocks[].date", DATE, "required", "When the factor starts to act.", 'date = "2028-01"'),
    KeyDoc("shocks[].end", DATE, "the end of the horizon", "When the factor stops acting.",
           'end = "2028-07"'),
    KeyDoc("shocks[].factor", f"{VALUE}, not below 0 (uniform, triangular or lognormal)", "required",
           "The multiplier; 1 changes nothing.", "factor = { lognormal = [0.0, 0.3] }"),
    KeyDoc("shocks[].regions", "list of region names of the data", "every region",
           "Where the factor acts (as for events).", 'regions = ["syria"]'),
)

DISTRIBUTION_ARGS = {
    "normal": "[mean, standard deviation]",
    "uniform": "[lower, upper]",
    "lognormal": "[mean, standard deviation] of the logarithm",
    "triangular": "[lower, mode, upper]",
}

# Written by `forecast scenario new NAME`; validated by the tests against the bundled data.
TEMPLATE = '''\
# A scenario file: every key is explained in docs/scenarios.md (`forecast scenario docs`).
# Check it with `forecast validate {file}`; run it with the status quo:
#   forecast run scenarios/status_quo.toml {file}

name = "{name}"
description = """Say here, in plain words, what this scenario assumes (the report shows it)."""
baseline = "status_quo"              # contrasted draw by draw with this scenario

[horizon]
start = "2027-01"                    # first forecast month (default: right after the data)
months = 24

# US troops in Iraq, thousands (a table per region whose troops change: [presence.syria],
# [presence.jordan]); a region without one stays at the data's last value
[presence.iraq]
points = [
  {{ date = "2027-01", value = 1.5 }},
  # an uncertain date and value, drawn per posterior draw:
  {{ date = {{ uniform = ["2027-06", "2027-12"] }}, value = {{ uniform = [0.5, 1.0] }} }},
]

# Events: kind is one of {kinds}.
# [[events]]
# kind = "decapitation"
# date = "2027-03-15"
# effect = "soleimani_2020"          # a fitted group of past events, or a table of priors:
# effect = {{ level = {{ normal = [0.0, 0.3] }}, pulse = {{ normal = [0.5, 0.3] }} }}

# Shocks: a factor on a model parameter (latent_ar: rate_multiplier, volatility_multiplier)
# [[shocks]]
# parameter = "rate_multiplier"
# date = "2028-01"
# end = "2028-07"
# factor = {{ lognormal = [0.0, 0.3] }}
'''


def template(name: str, file: str) -> str:
    """A commented scenario file named `name` (valid against the bundled data)."""
    return TEMPLATE.format(name=name, file=file, kinds=", ".join(spec.EVENT_KINDS))


def documented_keys() -> set[str]:
    return {k.key for k in KEYS}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown(shocks: Mapping[str, Mapping[str, str]], groups: Mapping[str, list[str]],
             example: str) -> str:
    """docs/scenarios.md: the keys, values and dates, the shocks per model, a full example.

    `shocks`: model -> shock parameter -> meaning (from the registry); `groups`: event kind ->
    fitted effect groups of the bundled data; `example`: a complete scenario file.
    """
    out = [
        "# Scenario files",
        "",
        "<!-- generated by `forecast scenario docs > docs/scenarios.md`; edit "
        "forecast/scenarios/reference.py, not this file -->",
        "",
        "A scenario is a TOML file that says what happens over the forecast horizon: US troop "
        "numbers, new events, and shocks to the model. `forecast scenario new NAME` writes a "
        "commented starting point; `forecast validate FILE` checks a file (unknown keys, types, "
        "dates, the data's fitted effects, the model's shocks) without fitting.",
        "",
        "## Keys",
        "",
        "| key | type | default | meaning | example |",
        "|---|---|---|---|---|",
    ]
    for k in KEYS:
        snippet = "<br>".join(f"`{_cell(line)}`" for line in k.example.splitlines())
        out.append(f"| `{k.key}` | {_cell(k.type)} | {_cell(k.default)} | {_cell(k.meaning)} | {snippet} |")
    out += [
        "",
        "## Values, dates and paths",
        "",
        "A value is a number or a distribution, drawn once per posterior draw:",
        "",
    ]
    out += [f"- `{{ {d} = {DISTRIBUTION_ARGS[d]} }}`" for d in spec.DISTRIBUTIONS]
    out += [
        "",
        "Values that must not be negative (troops, shock factors) take `uniform` or `triangular` "
        "with a lower bound of 0 or more, or `lognormal`.",
        "",
        "A date is `\"YYYY-MM\"` (the first day of that month), `\"YYYY-MM-DD\"`, or "
        "`{ uniform = [first, last] }`, a date drawn uniformly per posterior draw; dates lie in "
        "1990-2100. Identical uncertain dates or values in two scenarios of one run draw the same "
        "numbers, so their contrast isolates what differs.",
        "",
        "Events, shocks and path points dated after the horizon's last month are accepted (such an "
        "event or shock has no effect; such a point shapes the path only up to the horizon's end); "
        "`forecast validate` warns about them on stderr.",
        "",
        "## Shocks each model allows",
        "",
        "| model | parameter | effect |",
        "|---|---|---|",
    ]
    for model, table in shocks.items():
        out += [f"| `{model}` | `{p}` | {_cell(m)} |" for p, m in table.items()]
    out += [
        "",
        "## Fitted effect groups of the bundled data",
        "",
        "An event's `effect = \"GROUP\"` draws its effect from the posterior of that group:",
        "",
    ]
    out += [f"- `{kind}`: " + ", ".join(f"`{g}`" for g in names) for kind, names in groups.items()]
    out += [
        "",
        "## A complete example",
        "",
        "A truce in mid-2027, then a commander killed late in the year, troops drawn down, and an "
        "uncertain rise of attacks in the first half of 2028. Save it as "
        "`scenarios/truce_then_killing.toml` and run it with its baseline:",
        "",
        "```bash",
        "forecast validate scenarios/truce_then_killing.toml",
        "forecast run scenarios/status_quo.toml scenarios/truce_then_killing.toml",
        "```",
        "",
        "```toml",
        example.rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(out)


EXAMPLE = '''\
name = "truce_then_killing"
description = """The militias declare a truce on 1 June 2027; a senior commander is killed
between October and December 2027 (uncertain date); US troops fall from about 1,500 to between
800 and 1,200 by the end of 2027; attacks may run higher in the first half of 2028 for reasons
no past event describes (a factor drawn around 1)."""
baseline = "status_quo"

[horizon]
start = "2027-01"
months = 24

[presence.iraq]
points = [
  { date = "2027-01", value = 1.5 },
  { date = { uniform = ["2027-09-01", "2027-12-31"] }, value = { uniform = [0.8, 1.2] } },
]

[[events]]
kind = "militia_truce"
date = "2027-06-01"
name = "truce_2027"
effect = "militia_truce"

[[events]]
kind = "decapitation"
date = { uniform = ["2027-10-01", "2027-12-31"] }
name = "commander_killed_2027"
effect = "soleimani_2020"

[[shocks]]
parameter = "rate_multiplier"
date = "2028-01"
end = "2028-07"
factor = { lognormal = [0.0, 0.3] }
'''
