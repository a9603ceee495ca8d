"""Priors as data: defaults, user overrides, and errors."""

from __future__ import annotations

import pytest

from forecast.core.priors import resolve_priors
from forecast.errors import InputError
from forecast.families.latent_ar.graph import LatentARModel, parameter_families

DEFAULT = LatentARModel.default_priors_file()


def test_default_file_names_every_parameter_family():
    priors = resolve_priors(parameter_families(), DEFAULT)
    assert set(priors.specs) == set(parameter_families())
    assert priors.get("elasticity").describe() == "Normal(mu=0.5, sigma=0.5)"
    assert priors.get("reporting_ratio", "jinsa").params["mu"] == 0.2


def test_user_file_overrides_per_parameter(write):
    user = write("p.toml", '[elasticity]\ndist = "Normal"\nmu = 1.0\nsigma = 0.1\n')
    priors = resolve_priors(parameter_families(), DEFAULT, user)
    assert priors.get("elasticity").params == {"mu": 1.0, "sigma": 0.1}
    assert priors.get("rho").dist == "Beta"  # untouched families keep the default


@pytest.mark.parametrize("text, message", [
    ('[elastcity]\ndist = "Normal"\nmu = 0\nsigma = 1\n', "did you mean 'elasticity'"),
    ('[elasticity]\ndist = "Normel"\nmu = 0\nsigma = 1\n', "did you mean 'Normal'"),
    ('[elasticity]\ndist = "Normal"\nmu = 0\n', "needs parameter 'sigma'"),
    ('[elasticity]\ndist = "Normal"\nmu = 0\nsigma = -1\n', "must be > 0"),
    ('[elasticity]\ndist = "Normal"\nmu = 0\nsigma = "wide"\n', "must be a number"),
    ('[rho]\ndist = "Normal"\nmu = 0\nsigma = 1\n', "in (0, 1)"),
    ('[elasticity\n', "not valid TOML"),
])
def test_bad_priors_files_are_clear_errors(write, text, message):
    with pytest.raises(InputError) as info:
        resolve_priors(parameter_families(), DEFAULT, write("p.toml", text))
    assert message in str(info.value) and "p.toml" in str(info.value)


def test_user_member_must_exist_in_the_data(write):
    from forecast.data.loaders import load_bundled

    user = write("p.toml", '[reporting_ratio.jinza]\ndist = "Normal"\nmu = 0\nsigma = 1\n')
    with pytest.raises(InputError, match="did you mean 'jinsa'"):
        LatentARModel(load_bundled(), user)


def test_a_user_family_table_replaces_the_default_member_refinements(tmp_path):
    """--priors with [reporting_ratio] must act on every fitted definition (it was ignored)."""
    user = tmp_path / "wide.toml"
    user.write_text('[reporting_ratio]\ndist = "Normal"\nmu = 0.0\nsigma = 1.0\n')
    default = resolve_priors(parameter_families(), DEFAULT)
    assert default.get("reporting_ratio", "jinsa").params["mu"] == 0.2     # a member refinement
    priors = resolve_priors(parameter_families(), DEFAULT, user)
    for member in ("jinsa", "winep_base_strikes", "afp_rocket_attacks", "cjtf_oir_indirect_fire"):
        assert priors.get("reporting_ratio", member).params == {"mu": 0.0, "sigma": 1.0}
    # the user's own sub-table still refines the user's family table
    user.write_text('[reporting_ratio]\ndist = "Normal"\nmu = 0.0\nsigma = 1.0\n'
                    '[reporting_ratio.jinsa]\ndist = "Normal"\nmu = 0.5\nsigma = 0.1\n')
    priors = resolve_priors(parameter_families(), DEFAULT, user)
    assert priors.get("reporting_ratio", "jinsa").params == {"mu": 0.5, "sigma": 0.1}
    assert priors.get("reporting_ratio", "afp_rocket_attacks").params == {"mu": 0.0, "sigma": 1.0}


def test_a_table_without_dist_is_refused_not_ignored(tmp_path):
    user = tmp_path / "partial.toml"
    user.write_text("[reporting_ratio]\nsigma = 1.0\n")
    with pytest.raises(InputError, match=r"\[reporting_ratio\].*sigma without dist"):
        resolve_priors(parameter_families(), DEFAULT, user)


def test_a_priors_file_with_a_utf8_bom_is_read(write):
    from forecast.core.priors import read_priors_file

    path = write("p.toml", "\ufeff[elasticity]\ndist = \"Normal\"\nmu = 0.0\nsigma = 0.5\n".encode("utf-8"))
    assert read_priors_file(path)["elasticity"]["sigma"] == 0.5
