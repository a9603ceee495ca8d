"""Scenario files by region: [presence.<region>] paths, region-scoped events and shocks, checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast.data.loaders import load_bundled
from forecast.errors import InputError
from forecast.scenarios.spec import check_regions, load_scenarios, parse_scenario, regional_keys

HEAD = 'name = "s"\n[horizon]\nstart = "2027-01"\nmonths = 12\n'
REGIONS = ["iraq", "syria", "jordan"]


def parse(body: str):
    return parse_scenario(HEAD + body, "s.toml")


def test_presence_alone_is_still_the_total():
    s = parse('[presence]\npoints = [{date = "2027-03", value = 1.0}]\n')
    assert s.presence is not None and s.presence_by_region == {}
    assert regional_keys(s) == []
    check_regions(s, REGIONS)           # nothing regional: passes for any data
    check_regions(s, ["all"])


def test_presence_by_region_takes_values_distributions_and_uncertain_dates():
    s = parse('[presence.iraq]\npoints = [{date = {uniform = ["2027-02", "2027-06"]}, value = 0.0}]\n'
              '[presence.jordan]\npoints = [{date = "2027-03", value = {uniform = [3.5, 5.0]}}]\n')
    assert s.presence is None and list(s.presence_by_region) == ["iraq", "jordan"]
    (date, value), = s.presence_by_region["iraq"].points
    assert not date.fixed and value.args == (0.0,)
    (_, jordan), = s.presence_by_region["jordan"].points
    assert jordan.dist == "uniform" and jordan.args == (3.5, 5.0)
    check_regions(s, REGIONS, regional_model=True)


def test_events_and_shocks_may_name_regions():
    s = parse('[[events]]\nkind = "us_strike"\ndate = "2027-02"\nregions = ["iraq"]\n'
              '[[events]]\nkind = "militia_truce"\ndate = "2027-04"\n'
              '[[shocks]]\nparameter = "rate_multiplier"\ndate = "2027-01"\nfactor = 2.0\n'
              'regions = ["iraq", "syria"]\n')
    assert s.events[0].regions == ("iraq",) and s.events[1].regions is None
    assert s.shocks[0].regions == ("iraq", "syria")
    assert regional_keys(s) == ["events[0].regions", "shocks[0].regions"]
    check_regions(s, REGIONS, regional_model=True)


def test_region_scope_leaves_the_random_stream_key_of_an_event_unchanged():
    # the simulator seeds each event's draws with repr(event): unscoped events keep theirs
    plain = parse('[[events]]\nkind = "us_strike"\ndate = "2027-02"\n').events[0]
    scoped = parse('[[events]]\nkind = "us_strike"\ndate = "2027-02"\nregions = ["iraq"]\n').events[0]
    assert repr(plain) == repr(scoped) and "regions" not in repr(plain)
    assert plain != scoped


@pytest.mark.parametrize(("body", "key", "message"), [
    ('[presence]\npoints = [{date = "2027-03", value = 1.0}]\n'
     '[presence.iraq]\npoints = [{date = "2027-03", value = 0.0}]\n', "presence", "not both"),
    ('[presence.iraq]\npoints = [{date = "2027-03", value = -1.0}]\n',
     "presence.iraq.points[0].value", "must not be negative"),
    ('[presence.iraq]\npoint = [{date = "2027-03", value = 0.0}]\n', "presence.iraq.point", "unknown key"),
    ('[presence]\npoint = [{date = "2027-03", value = 0.0}]\n', "presence.point", "did you mean 'points'"),
    ('[presence]\n', "presence", "expected points"),
    ('[presence."north iraq"]\npoints = [{date = "2027-03", value = 0.0}]\n', "presence.north iraq",
     "not a name"),
    ('[[events]]\nkind = "us_strike"\ndate = "2027-02"\nregions = "iraq"\n', "events[0].regions",
     "non-empty list"),
    ('[[events]]\nkind = "us_strike"\ndate = "2027-02"\nregions = []\n', "events[0].regions",
     "non-empty list"),
    ('[[shocks]]\nparameter = "rate_multiplier"\ndate = "2027-01"\nfactor = 2.0\nregions = ["iraq", '
     '"iraq"]\n', "shocks[0].regions", "twice"),
])
def test_bad_regional_keys_are_refused_at_parse(body, key, message):
    with pytest.raises(InputError, match=message) as info:
        parse(body)
    assert info.value.where == f"key '{key}'"


@pytest.mark.parametrize(("body", "key", "hint"), [
    ('[presence.irak]\npoints = [{date = "2027-03", value = 0.0}]\n', "presence.irak", "iraq"),
    ('[[events]]\nkind = "us_strike"\ndate = "2027-02"\nregions = ["syra"]\n', "events[0].regions", "syria"),
    ('[[shocks]]\nparameter = "rate_multiplier"\ndate = "2027-01"\nfactor = 2.0\nregions = ["jordon"]\n',
     "shocks[0].regions", "jordan"),
])
def test_unknown_region_is_refused_with_did_you_mean(body, key, hint):
    with pytest.raises(InputError, match=f"unknown region .*did you mean '{hint}'.*iraq, syria, jordan"
                       ) as info:
        check_regions(parse(body), REGIONS, regional_model=True)
    assert info.value.where == f"key '{key}'"


def test_data_without_regions_refuse_a_region_path():
    s = parse('[presence.iraq]\npoints = [{date = "2027-03", value = 0.0}]\n')
    with pytest.raises(InputError, match="the data name no regions.*use \\[presence\\] for the total"):
        check_regions(s, ["all"], regional_model=True)


def test_a_model_of_the_total_refuses_per_region_keys():
    s = parse('[presence.iraq]\npoints = [{date = "2027-03", value = 0.0}]\n')
    with pytest.raises(InputError, match="forecasts the total of the regions") as info:
        check_regions(s, REGIONS)
    assert info.value.where == "key 'presence.iraq'"


def test_bundled_scenarios_still_parse_and_pass_the_region_check():
    regions = load_bundled().regions
    for scenario in load_scenarios(sorted(Path("scenarios").glob("*.toml"))):
        check_regions(scenario, regions, regional_model=True)
