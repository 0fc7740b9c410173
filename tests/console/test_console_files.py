"""Files and vector stores from the browser: upload a file (progress to 100%), make a
vector store with it, watch ingestion finish, search it and see ranked chunks with
scores; a project's files stay in that project."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.console.conftest import login, shot, wait_for
from tests.server import MASTER_KEY, LiveServer

TEXT = """Switchyard routes requests across upstream deployments.

The lighthouse keeper on Skerry Island feeds the gulls at dawn with sardines.

Budgets are enforced from the usage ledger, per project and per key."""


@pytest.fixture(scope="module", autouse=True)
def signed_in(console_server: LiveServer, browser: WebDriver) -> None:
    login(browser, console_server)


def test_upload_ingest_and_search(console_server: LiveServer, browser: WebDriver, tmp_path: Path) -> None:
    document = tmp_path / "lighthouse <notes>.txt"
    document.write_text(TEXT)
    browser.get(console_server.url + "/console/files")
    browser.find_element(By.ID, "upload-file").send_keys(str(document))
    browser.find_element(By.ID, "upload-button").click()
    result = wait_for(browser, lambda d: d.find_element(By.ID, "upload-result").get_attribute("data-file-id"))
    assert result.startswith("file-")
    assert browser.find_element(By.ID, "upload-progress").get_attribute("value") == "100"
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"#files tr[data-file-id='{result}']"))
    row = browser.find_element(By.CSS_SELECTOR, f"#files tr[data-file-id='{result}']").text
    assert "lighthouse <notes>.txt" in row and str(len(TEXT.encode())) in row
    shot(browser, "07-files", phone=True)

    browser.find_element(By.ID, "store-name").send_keys("Harbour notes")
    Select(browser.find_element(By.ID, "store-file")).select_by_value(result)
    browser.find_element(By.ID, "create-store").click()
    wait_for(browser, lambda d: "/console/files/vs_" in d.current_url)
    row_css = f"#store-files tr[data-file-id='{result}']"
    status = wait_for(browser, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, row_css)
                                          if e.get_attribute("data-status") != "in_progress"], timeout=60)
    assert status[0].get_attribute("data-status") == "completed", status[0].text
    wait_for(browser, lambda d: d.find_element(By.ID, "store-status").text == "completed")

    browser.find_element(By.ID, "search-query").send_keys("who feeds the gulls?")
    browser.find_element(By.ID, "search-button").click()
    hits = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li[data-score]"))
    scores = [float(h.get_attribute("data-score")) for h in hits]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    assert "lighthouse keeper" in hits[0].text and "lighthouse <notes>.txt" in hits[0].text
    assert "score " in hits[0].text
    shot(browser, "07-vector-store-search", phone=True)


def test_files_belong_to_the_chosen_project(console_server: LiveServer, browser: WebDriver) -> None:
    import httpx

    with httpx.Client(base_url=console_server.url + "/v1/organization",
                      headers={"authorization": f"Bearer {MASTER_KEY}"}) as admin:
        project = admin.post("/projects", json={"name": "empty files"}).json()["id"]
    browser.get(console_server.url + f"/console/files?project_id={project}")
    assert "No files." in browser.find_element(By.ID, "files").text
    assert "No vector stores." in browser.find_element(By.ID, "stores").text
