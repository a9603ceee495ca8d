"""The package installs as a wheel with everything a fit needs (priors, bundled data)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_wheel_ships_the_priors_and_the_bundled_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("militia_forecast-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for family in ("latent_ar", "hawkes"):
        assert f"forecast/families/{family}/priors.toml" in names
        assert f"forecast/families/{family}/README.md" in names
    for data_file in ("observations.csv", "events.csv", "presence.csv", "definitions.csv"):
        assert f"forecast/data/files/{data_file}" in names
    assert not any(n.startswith("tests/") or n.startswith("priors/") for n in names)
