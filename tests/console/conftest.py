"""One live Switchyard for the console tests (scripted upstreams, the embedded embedding
model for vector stores, prices so costs show) and one headless Debian chromium per
module, driven by Selenium through Debian's chromedriver. Screenshots of every page go
under $SWITCHYARD_CONSOLE_SCREENS (default .cache/console-screens)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import LOCAL_EMBEDDING, upstream_models
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import admin_client

CHROMIUM = os.environ.get("SWITCHYARD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SWITCHYARD_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENS = Path(os.environ.get("SWITCHYARD_CONSOLE_SCREENS", Path(__file__).parents[2] / ".cache" / "console-screens"))
PRICE = {"input_per_mtok": "2.50", "output_per_mtok": "10"}


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
                   fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    models = [*upstream_models(fake_openai, fake_anthropic, price=PRICE),
              {"name": LOCAL_EMBEDDING, "provider": "local", "task": "embedding"}]
    live = LiveServer(tmp_path_factory.mktemp("switchyard-console"), models)
    live.start(wait_ready=True)
    yield live
    live.stop()


def admin_key(server: LiveServer, name: str = "console admin") -> tuple[str, str]:
    with admin_client(server.url) as admin:
        answer = admin.post("/admin_api_keys", json={"name": name})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"]), str(answer.json()["value"])


def _chrome() -> WebDriver:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: run scripts/install-browser.sh (as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = _chrome()
    yield driver
    driver.quit()


def login(driver: WebDriver, server: LiveServer, key: str = MASTER_KEY) -> None:
    driver.get(server.url + "/console/login")
    field = driver.find_element(By.ID, "key")
    field.clear()
    field.send_keys(key)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, lambda d: "/console/login" not in d.current_url or d.find_elements(By.CSS_SELECTOR, ".flash"))


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = 20) -> Any:
    """``condition``'s first truthy answer; a page replaced mid-check is checked again."""
    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)


def shot(driver: WebDriver, name: str, *, phone: bool = False) -> Path:
    """A screenshot of the page (and, with ``phone``, at a phone's width too)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    assert driver.save_screenshot(str(path)), path
    if phone:
        size = driver.get_window_size()
        driver.set_window_size(390, 844)
        driver.save_screenshot(str(path.with_name(path.stem + "-phone.png")))
        driver.set_window_size(size["width"], size["height"])
    return path


def ledger_has(server: LiveServer, request_id: str, timeout: float = 10) -> dict[str, Any]:
    """The ledger entry of ``request_id`` once it is written (entries are batched)."""
    deadline = time.monotonic() + timeout
    with admin_client(server.url) as admin:
        while time.monotonic() < deadline:
            found = admin.get("/requests", params={"request_id": request_id}).json()["data"]
            if found:
                return dict(found[0])
            time.sleep(0.1)
    raise AssertionError(f"no ledger entry for {request_id}")


def console_client(server: LiveServer, key: str = MASTER_KEY) -> httpx.Client:
    """A signed-in HTTP client (cookies kept), and the CSRF token of its session."""
    client = httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, form.text
    answer = client.post("/console/login", data={"csrf_token": token.group(1), "key": key, "next": "/console/"})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: httpx.Client) -> str:
    page = client.get("/console/projects")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None, page.text
    return token.group(1)
