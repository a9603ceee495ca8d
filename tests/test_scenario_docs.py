"""docs/scenarios.md is generated from the schema and cannot drift; `forecast scenario new` and
`forecast validate` of a file alone."""

from __future__ import annotations

import re

import pytest

from forecast.cli import main
from forecast.cli.scenario import reference_markdown
from forecast.config import DataSource, RunConfig
from forecast.errors import InputError
from forecast.scenarios import reference, spec
from forecast.simulation import prepare_scenarios
from tests.conftest import REPO

DOCS = REPO / "docs" / "scenarios.md"


def schema_keys() -> set[str]:
    """Every key spec.py accepts, named as the reference names it."""
    keys = {k for k in spec.TOP_KEYS if k != "covariates"} | {"covariates.NAME"}
    keys |= {f"horizon.{k}" for k in spec.HORIZON_KEYS}
    keys |= {"presence.points", *(f"presence.points[].{k}" for k in spec.POINT_KEYS)}
    keys |= {"presence.REGION"}                    # a [presence.<region>] table, with the same points
    keys |= {f"events[].{k}" for k in spec.EVENT_KEYS} | {f"events[].effect.{k}" for k in spec.EFFECT_KEYS}
    keys |= {f"shocks[].{k}" for k in spec.SHOCK_KEYS}
    return keys


def test_the_committed_reference_is_the_generated_one():
    assert DOCS.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/scenarios.md is stale: run `forecast scenario docs > docs/scenarios.md`")


def test_every_key_of_the_schema_is_documented_and_nothing_else():
    assert reference.documented_keys() == schema_keys()
    for key in reference.KEYS:
        assert key.type and key.default and key.meaning and key.example, key.key


def test_keys_documented_as_required_are_required():
    text = reference.EXAMPLE
    for line in ('name = "truce_then_killing"\n', "months = 24\n"):
        with pytest.raises(InputError, match="is required"):
            spec.parse_scenario(text.replace(line, ""), "example")


def quoted_example() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_quoted_example_validates_against_the_bundled_data(tmp_path):
    example = tmp_path / "truce_then_killing.toml"
    example.write_text(quoted_example(), encoding="utf-8")
    scenarios, _, families = prepare_scenarios(RunConfig(
        data=DataSource(), scenarios=(str(REPO / "scenarios" / "status_quo.toml"), str(example))))
    parsed = {s.name: s for s in scenarios}["truce_then_killing"]
    assert parsed.baseline == "status_quo"
    assert [e.kind for e in parsed.events] == ["militia_truce", "decapitation"]
    assert parsed.shocks[0].parameter in families[0].shocks


def test_scenario_new_writes_a_template_that_validates_and_never_overwrites(tmp_path, capsys):
    (tmp_path / "status_quo.toml").write_bytes((REPO / "scenarios" / "status_quo.toml").read_bytes())
    target = tmp_path / "my_case.toml"
    assert main(["scenario", "new", "my_case", "--out", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# A scenario file") and 'name = "my_case"' in text
    capsys.readouterr()
    assert main(["validate", str(target)]) == 0          # alone: its baseline lies beside it
    out = capsys.readouterr()
    assert "my_case.toml: OK (my_case, 24 months, baseline status_quo)" in out.out
    assert out.err == ""
    # an existing file is never written over
    target.write_text(text + "# my edits\n", encoding="utf-8")
    assert main(["scenario", "new", "my_case", "--out", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8").endswith("# my edits\n")
    # a bad name or a missing folder: exit 2, nothing written
    assert main(["scenario", "new", "bad name", "--out", str(tmp_path / "x.toml")]) == 2
    assert main(["scenario", "new", "ok", "--out", str(tmp_path / "nope" / "x.toml")]) == 2
    assert not (tmp_path / "x.toml").exists() and not (tmp_path / "nope").exists()


def test_validate_checks_a_file_alone_and_warns_about_dates_after_the_horizon(write, capsys):
    scenario = write("late.toml", 'name = "late"\nbaseline = "elsewhere"\n[horizon]\nstart = "2027-01"\n'
                     'months = 12\n[presence.iraq]\npoints = [{date = "2027-01", value = 1.5}, '
                     '{date = "2028-06", value = 0.5}]\n[[events]]\nkind = "militia_truce"\n'
                     'date = "2028-03-01"\n[[events]]\nkind = "us_strike"\n'
                     'date = {uniform = ["2027-10-01", "2028-02-01"]}\n')
    assert main(["validate", str(scenario)]) == 0
    out = capsys.readouterr()
    assert "baseline elsewhere not checked" in out.out
    lines = out.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"warning: {scenario}: ")
    assert "events[0].date 2028-03-01 is after the horizon ends (2027-12)" in lines[0]
    assert "events[1].date 2027-10-01..2028-02-01 may fall after the horizon ends" in lines[0]
    assert "presence.iraq.points[1].date 2028-06-01 is after the horizon ends" in lines[0]


def test_validate_alone_still_checks_a_baseline_given_or_beside(write, capsys):
    base = write("base.toml", 'name = "base"\n[horizon]\nstart = "2027-01"\nmonths = 6\n')
    other = write("other.toml", 'name = "other"\nbaseline = "base"\n[horizon]\nstart = "2027-01"\n'
                  'months = 12\n')
    assert base.exists()
    assert main(["validate", str(other)]) == 2      # the baseline beside it has another horizon
    assert "horizon differs" in capsys.readouterr().err
