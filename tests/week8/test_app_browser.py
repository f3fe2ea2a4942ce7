"""The Price is Right in a real browser: `python -m helpers app` offline on loopback, driven by
Debian's headless Chromium through selenium. It opens, the agents fill the table, a selected row
sends its notification again, and a reload shows the same opportunities (the memory)."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from helpers.week8.service import free_port

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="no Chromium: install the Debian packages chromium and chromium-driver"
)


@pytest.fixture
def app(tmp_path, smol_service):
    """The app, offline but for the session's pricing service (SmolLM2 with an adapter)."""
    port = free_port()
    env = {
        **os.environ,
        "PRICER_STORE": str(tmp_path / "store"),
        "PRICER_RESULTS": str(tmp_path / "results"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "PRICER_FEED_PORT": str(free_port()),
    }
    env = {name: value for name, value in env.items() if name not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    line = [sys.executable, "-m", "helpers", "app", "--port", str(port), "--every", "3600", "--delay", "0"]
    # any deal below its estimate is an opportunity: the table fills whatever prices this CPU's
    # arithmetic gets from the random adapter and a classical model trained on 300 items
    line += ["--threshold", "0"]
    line += ["--train-size", "300", "--vector-items", "60", "--validation-size", "10", "--map-points", "60"]
    line += ["--specialist", smol_service.url, "--specialist-is", "SmolLM2-135M with a random adapter"]
    log = open(tmp_path / "app.log", "w")  # noqa: SIM115
    process = subprocess.Popen(line, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            assert process.poll() is None, (tmp_path / "app.log").read_text()[-3000:]
            time.sleep(0.5)
    yield url, tmp_path
    process.terminate()
    process.wait(30)
    log.close()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)  # the system's driver: nothing downloaded
    yield driver
    driver.quit()


def cells(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        cell.get_attribute("textContent").strip()
        for cell in driver.find_elements(By.CSS_SELECTOR, "#opportunities [role=gridcell]")
    ]


def log_text(driver) -> str:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.ID, "agent-log")
    return found[0].get_attribute("textContent") if found else ""


def wait_for(condition, seconds: float, what: str, driver, folder):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    driver.save_screenshot(str(folder / "failed.png"))
    raise AssertionError(f"{what} within {seconds:.0f} s; the app said: {(folder / 'app.log').read_text()[-2000:]}")


def test_the_app_finds_deals_resends_a_notification_and_remembers_them(app, browser):
    from selenium.webdriver.common.by import By

    url, folder = app
    browser.get(url)

    def stand_ins() -> str:
        shown = browser.find_elements(By.ID, "stand-ins")
        return shown[0].text if shown else ""

    assert "Offline:" in wait_for(stand_ins, 30, "no stand-ins said", browser, folder)  # above the figures

    def deal_urls() -> list[str]:
        return [text for text in cells(browser) if "/deals/" in text]

    found = wait_for(deal_urls, 300, "no opportunity in the table", browser, folder)
    assert any("simulated deal" in text for text in cells(browser))  # the deal says it is simulated
    shown = [
        cell for cell in browser.find_elements(By.CSS_SELECTOR, "#opportunities [role=gridcell]") if cell.is_displayed()
    ]
    shown[0].click()  # the first row's description
    marker = "sending the notification for row 1 again"

    def resent() -> bool:
        text = log_text(browser)
        return marker in text and "Deal Alert!" in text.split(marker, 1)[1]

    wait_for(resent, 60, "no notification sent again for the selected row", browser, folder)
    memory = (folder / "store" / "deals" / "memory.jsonl").read_text()
    assert all(address in memory for address in found)

    browser.refresh()
    again = wait_for(deal_urls, 60, "the remembered opportunities after a reload", browser, folder)
    assert set(found) <= set(again)
