"""Render a report in headless Chromium: no console errors, every figure has a size."""

from __future__ import annotations

import os
import shutil

import pytest

from forecast.reporting.scenario_report import write_report
from forecast.scenarios.spec import load_scenarios
from forecast.simulation import simulate_scenarios
from tests.test_report import manifest, setup  # noqa: F401  (fixture)


def chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def test_report_renders_in_headless_chromium(setup, tmp_path):  # noqa: F811
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver must be installed in CI (scripts/test.sh does it)")
        pytest.skip("chromium not installed here; scripts/test.sh installs it")
    model, idata, base, cut, _ = setup
    scenarios = load_scenarios([base, cut])
    draws = simulate_scenarios(model, idata.posterior, scenarios, seed=1)
    write_report(tmp_path, idata, draws, manifest("passed", scenarios), model.dataset, model)
    driver = chrome()
    try:
        driver.get((tmp_path / "report.html").as_uri())
        images = driver.find_elements("tag name", "img")
        assert len(images) >= 3
        for img in images:
            natural = driver.execute_script(
                "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", img)
            assert natural[0] > 0 and natural[1] > 0
            assert img.size["width"] > 0 and img.size["height"] > 0
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors
        driver.save_screenshot(str(tmp_path / "report.png"))
        assert (tmp_path / "report.png").stat().st_size > 10_000
    finally:
        driver.quit()
