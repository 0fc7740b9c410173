"""The console can be turned off; every page reads in dark as in light and at a phone's width."""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.conftest import login, shot, wait_for
from tests.server import LiveServer

PAGES = ["/console/", "/console/projects", "/console/requests", "/console/stored", "/console/playground",
         "/console/models", "/console/files"]


def test_console_false_serves_no_console(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, [{"name": "m", "provider": "openai", "base_url": "http://127.0.0.1:9/v1"}],
                      console=False)
    live.start()
    try:
        for path in ("/console/", "/console/login", "/console/static/console.css"):
            answer = httpx.get(live.url + path, follow_redirects=False)
            assert answer.status_code == 404, (path, answer.text)
        assert httpx.get(live.url + "/health").status_code == 200
    finally:
        live.stop()


def test_dark_theme_persists_and_every_page_renders(console_server: LiveServer, browser: WebDriver) -> None:
    login(browser, console_server)
    light = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    browser.find_element(By.CSS_SELECTOR, ".who [data-theme-toggle]").click()
    assert browser.execute_script("return document.documentElement.dataset.theme") == "dark"
    for path in PAGES:
        browser.get(console_server.url + path)
        wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
        assert browser.execute_script("return document.documentElement.dataset.theme") == "dark"
        assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") != light
        assert browser.find_element(By.CSS_SELECTOR, "nav [aria-current='page']").get_attribute("href").endswith(
            path if path != "/console/" else "/console/")
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(browser, "09-dark" + path.replace("/", "-").rstrip("-"), phone=True)
    browser.find_element(By.CSS_SELECTOR, ".who [data-theme-toggle]").click()
    assert browser.execute_script("return document.documentElement.dataset.theme") == "light"


def test_static_files_are_served_from_the_package(console_server: LiveServer) -> None:
    for name, marker in (("vendor/htmx-2.0.11.min.js", b"htmx"), ("vendor/chart-4.6.1.umd.min.js", b"Chart.js v4.6.1"),
                         ("console.css", b"--accent")):
        answer = httpx.get(console_server.url + "/console/static/" + name)
        assert answer.status_code == 200 and marker in answer.content, name
        assert answer.headers["cache-control"] == "no-cache"
        again = httpx.get(console_server.url + "/console/static/" + name,
                          headers={"if-none-match": answer.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
