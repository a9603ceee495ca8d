"""Render a report in headless Chromium with the network blocked: no request leaves the page,
no console errors, every figure has a size, the interactive charts draw and answer a hover.

Screenshots of the first screen and of a hover tooltip are saved beside the report (the test
prints where) and, when FORECAST_SCREENSHOTS names a folder, copied there.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from forecast.reporting.scenario_report import write_report
from forecast.scenarios.spec import load_scenarios
from forecast.simulation import simulate_scenarios
from tests.test_report import manifest, setup  # noqa: F401  (fixture)

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome:", "devtools:")


def chrome(height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size=1280,{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    # offline: any http(s) request would be blocked (and still logged, so the test sees it)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]})
    return driver


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def hover_chart(driver, chart_id: str) -> int:
    """Move the mouse (real input events) over a chart's plot area; the tooltip boxes shown."""
    chart = driver.find_element("id", chart_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
    time.sleep(0.3)
    x, y, width, height = driver.execute_script(
        "const r = arguments[0].querySelector('.nsewdrag').getBoundingClientRect();"
        "return [r.x, r.y, r.width, r.height]", chart)
    for fraction in (0.3, 0.5, 0.7, 0.4, 0.6, 0.35, 0.55, 0.65):   # a loaded machine may draw late
        driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + width * fraction,
                                                            "y": y + height / 2})
        time.sleep(0.6)
        # "x unified" hover: one box listing every scenario's value in that month
        boxes = driver.execute_script(
            "return [...arguments[0].querySelector('.hoverlayer').children]"
            ".filter(e => e.textContent.trim()).length", chart)
        if boxes:
            return boxes
    return 0


def check_report_in_chromium(report: Path, shots: Path) -> dict[str, Path]:
    """Everything the test asserts, on any report (also used for the bundled run's report)."""
    driver = chrome()
    try:
        driver.get(report.as_uri())
        time.sleep(1.0)                              # Plotly draws after the page has loaded
        images = driver.find_elements("tag name", "img")
        for img in images:
            natural = driver.execute_script(
                "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", img)
            assert natural[0] > 0 and natural[1] > 0
        charts = driver.find_elements("css selector", ".plotly-graph-div")
        assert len(charts) >= 2, "the overlay and at least one fan chart"
        for chart in charts:
            assert chart.find_elements("css selector", "svg.main-svg"), chart.get_attribute("id")
        first = driver.find_element("tag name", "h2")
        assert first.text == "Bottom line"
        out = {"first_screen": shots / "report-first-screen.png", "hover": shots / "report-hover.png"}
        driver.save_screenshot(str(out["first_screen"]))
        assert hover_chart(driver, "chart-overlay") >= 1, "no tooltip after hovering the overlay chart"
        tooltip = driver.execute_script(
            "return document.querySelector('#chart-overlay .hoverlayer').textContent")
        assert "80%:" in tooltip, tooltip
        driver.save_screenshot(str(out["hover"]))
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors
        remote = [u for u in requested_urls(driver) if not u.startswith(LOCAL_SCHEMES)]
        assert not remote, f"the report asked the network for {remote}"
        for path in out.values():
            assert path.stat().st_size > 10_000
        return out
    finally:
        driver.quit()


def test_report_renders_offline_and_its_charts_answer_a_hover(setup, tmp_path):  # noqa: F811
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver must be installed in CI (scripts/test.sh does it)")
        pytest.skip("chromium not installed here; scripts/test.sh installs it")
    model, idata, base, cut, _ = setup
    scenarios = load_scenarios([base, cut])
    draws = simulate_scenarios(model, idata.posterior, scenarios, seed=1)
    write_report(tmp_path, idata, draws, manifest("passed", scenarios), model.dataset, model)
    shots = check_report_in_chromium(tmp_path / "report.html", tmp_path)
    print(f"screenshots: {shots['first_screen']} {shots['hover']}")
    if os.environ.get("FORECAST_SCREENSHOTS"):
        target = Path(os.environ["FORECAST_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        for path in shots.values():
            shutil.copyfile(path, target / f"test-{path.name}")
