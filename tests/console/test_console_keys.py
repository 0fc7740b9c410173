"""Projects and keys from the browser: create a project (its name an XSS attempt,
shown as text), create a key and use it with the openai SDK, see the request in the
request log, on its ledger page, on the key's usage and on the overview's charts; edit,
disable and delete the key."""

from __future__ import annotations

import json

import openai
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.console.conftest import ledger_has, login, shot, wait_for
from tests.e2e import ledger
from tests.fakes.openai_wire import completion, error
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer

XSS = '<img src=x onerror="document.title=\'pwned\'">Team "Q" & co'


def _sdk(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=30,
                         _strict_response_validation=True)


def _field(driver: WebDriver, form_id: str, name: str, value: str) -> None:
    element = driver.find_element(By.CSS_SELECTOR, f"#{form_id} [name='{name}']")
    element.clear()
    element.send_keys(value)


@pytest.fixture(scope="module")
def flow(console_server: LiveServer, browser: WebDriver) -> dict[str, str]:
    """Signed in; a project made in the browser, with one key whose secret was read off the page."""
    login(browser, console_server)
    browser.get(console_server.url + "/console/projects")
    _field(browser, "new-project", "name", XSS)
    _field(browser, "new-project", "max_requests_per_1_minute", "600")
    browser.find_element(By.CSS_SELECTOR, "#new-project button").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "project-title"))
    project_id = browser.current_url.rsplit("/", 1)[1]
    _field(browser, "new-key", "name", "ci <b>bold</b>")
    _field(browser, "new-key", "budget_usd", "25")
    browser.find_element(By.ID, "create-key").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "secret-value"))
    secret = browser.find_element(By.ID, "secret-value").text
    key_id = browser.find_element(By.ID, "new-key-id").text
    return {"project_id": project_id, "key_id": key_id, "secret": secret}


def test_names_are_escaped_and_the_secret_is_shown_once(console_server: LiveServer, browser: WebDriver,
                                                        flow: dict[str, str]) -> None:
    assert flow["secret"].startswith("sk-sy-") and flow["key_id"].startswith("key_")
    assert browser.find_element(By.ID, "copy-secret").text == "Copy"
    title = browser.find_element(By.ID, "project-title").text
    assert XSS in title  # the markup is text on the page
    assert not browser.find_elements(By.CSS_SELECTOR, "#project-title img")
    assert browser.title != "pwned"
    assert "&lt;img src=x" in browser.page_source
    shot(browser, "02-project-new-key", phone=True)
    browser.find_element(By.ID, "copy-secret").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "copy-secret").text == "Copied")
    browser.get(console_server.url + f"/console/projects/{flow['project_id']}")
    assert flow["secret"] not in browser.page_source  # once only
    assert "ci <b>bold</b>" in browser.find_element(By.ID, "keys").text
    browser.get(console_server.url + "/console/projects")
    assert XSS in browser.find_element(By.ID, "projects").text
    assert browser.title != "pwned"
    shot(browser, "02-projects", phone=True)


def test_the_key_works_and_its_request_shows_in_the_log_and_charts(
        console_server: LiveServer, browser: WebDriver, flow: dict[str, str], fake_openai: FakeUpstream) -> None:
    fake_openai.script(completion("Console hello", model="gpt-upstream"))
    raw = _sdk(console_server, flow["secret"]).chat.completions.with_raw_response.create(
        model=VIA_OPENAI, messages=[{"role": "user", "content": "hi from the SDK"}])
    answer = raw.parse()
    assert answer.choices[0].message.content == "Console hello"
    request_id = raw.headers["x-request-id"]
    entry = ledger_has(console_server, request_id)
    assert entry["api_key_id"] == flow["key_id"] and entry["usage"]["input_tokens"] == 11

    browser.get(console_server.url + f"/console/requests?api_key_id={flow['key_id']}")
    rows = browser.find_elements(By.CSS_SELECTOR, "#requests tbody tr[data-request-id]")
    assert [r.get_attribute("data-request-id") for r in rows] == [request_id]
    assert VIA_OPENAI in rows[0].text and "11 / 7" in rows[0].text and "200" in rows[0].text
    shot(browser, "03-request-log", phone=True)
    Select(browser.find_element(By.NAME, "status")).select_by_visible_text("error")
    browser.find_element(By.ID, "filter-requests").click()
    wait_for(browser, lambda d: "status=error" in d.current_url)
    assert not browser.find_elements(By.CSS_SELECTOR, "#requests tbody tr[data-request-id]")
    browser.get(console_server.url + f"/console/requests?api_key_id={flow['key_id']}&min_latency_ms=0")
    browser.find_element(By.CSS_SELECTOR, "#requests tbody tr[data-request-id] a").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "entry-json"))
    assert request_id in browser.find_element(By.TAG_NAME, "h1").text
    assert f'"api_key_id": "{flow["key_id"]}"' in browser.find_element(By.ID, "entry-json").text
    assert "0.0000975 USD" in browser.find_element(By.ID, "entry").text  # 11 in at $2.50/M + 7 out at $10/M
    shot(browser, "03-request-entry")

    browser.get(console_server.url + f"/console/projects/{flow['project_id']}/keys/{flow['key_id']}")
    assert browser.find_element(By.ID, "key-requests").text == "1"
    assert browser.find_element(By.ID, "key-spent").text == "$0.0000975"
    wait_for(browser, lambda d: d.find_element(By.ID, "key-usage-chart").get_attribute("data-drawn") == "19")
    shot(browser, "02-key", phone=True)

    fake_openai.script(error(400, "The upstream refused this one."))
    with pytest.raises(openai.BadRequestError) as refused:
        _sdk(console_server, flow["secret"]).chat.completions.create(
            model=VIA_OPENAI, messages=[{"role": "user", "content": "fail please"}])
    assert ledger_has(console_server, refused.value.response.headers["x-request-id"])["status"] == 400
    browser.get(console_server.url + "/console/?range=24h&by=key")
    requests = wait_for(browser, lambda d: d.find_element(By.ID, "chart-requests").get_attribute("data-drawn"))
    assert int(requests) >= 1
    assert int(browser.find_element(By.ID, "total-requests").text) >= 1
    failed = [e for e in ledger.entries(console_server) if (e["status"] or 0) >= 400]
    assert failed and int(browser.find_element(By.ID, "total-errors").text) == len(failed)  # every one, exactly
    assert flow["key_id"] in browser.find_element(By.ID, "top-keys").text
    health = browser.find_element(By.ID, "health").text
    assert VIA_OPENAI in health and "closed" in health
    shot(browser, "04-overview", phone=True)
    for by, label in (("model", VIA_OPENAI), ("project", flow["project_id"])):
        browser.get(console_server.url + f"/console/?range=7d&by={by}")
        data = json.loads(browser.find_element(By.ID, "data-requests").get_attribute("textContent"))
        assert label in [d["label"] for d in data["datasets"]] and len(data["labels"]) == 7
        assert int(wait_for(browser, lambda d: d.find_element(By.ID, "chart-requests").get_attribute(
            "data-drawn"))) >= 1


def test_editing_disabling_and_deleting_the_key(console_server: LiveServer, browser: WebDriver,
                                                flow: dict[str, str], fake_openai: FakeUpstream) -> None:
    page = console_server.url + f"/console/projects/{flow['project_id']}/keys/{flow['key_id']}"
    browser.get(page)
    _field(browser, "key-settings", "allowed_models", VIA_OPENAI)
    _field(browser, "key-settings", "allowed_ips", "not-an-ip")
    browser.find_element(By.ID, "save-key").click()
    error = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.error"))[0].text
    assert "allowed_ips[0]" in error
    kept = browser.find_element(By.CSS_SELECTOR, "#key-settings [name='allowed_models']").get_attribute("value")
    assert kept == VIA_OPENAI  # a refused form comes back as it was sent
    _field(browser, "key-settings", "allowed_ips", "127.0.0.1/32")
    browser.find_element(By.ID, "save-key").click()
    wait_for(browser, lambda d: "Key saved." in d.find_element(By.TAG_NAME, "main").text)
    client = _sdk(console_server, flow["secret"])
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model=VIA_ANTHROPIC, messages=[{"role": "user", "content": "x"}])
    assert refused.value.code == "model_not_found"

    browser.find_element(By.ID, "toggle-key").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "key-state").text == "disabled")
    with pytest.raises(openai.AuthenticationError) as disabled:
        client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "x"}])
    assert disabled.value.code == "api_key_disabled"
    shot(browser, "02-key-disabled")

    browser.find_element(By.ID, "delete-key").click()
    browser.switch_to.alert.accept()
    wait_for(browser, lambda d: "deleted=" in d.current_url)
    assert flow["key_id"] not in browser.find_element(By.ID, "keys").text
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "x"}])


def test_project_settings_validate_and_save(console_server: LiveServer, browser: WebDriver,
                                            flow: dict[str, str]) -> None:
    browser.get(console_server.url + f"/console/projects/{flow['project_id']}")
    _field(browser, "project-settings", "budget_usd", "12.345")
    browser.find_element(By.ID, "save-project").click()
    error = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.error"))[0].text
    assert "budget_usd" in error
    assert browser.find_element(By.CSS_SELECTOR, "#project-settings [name='budget_usd']").get_attribute(
        "value") == "12.345"
    _field(browser, "project-settings", "budget_usd", "12.50")
    _field(browser, "project-settings", "model_ids", "gpt-*")
    browser.find_element(By.ID, "save-project").click()
    wait_for(browser, lambda d: "Project saved." in d.find_element(By.TAG_NAME, "main").text)
    from tests.tenants import admin_client

    with admin_client(console_server.url) as admin:
        limit = admin.get(f"/projects/{flow['project_id']}/spend_limit").json()
        permissions = admin.get(f"/projects/{flow['project_id']}/model_permissions").json()
        project = admin.get(f"/projects/{flow['project_id']}").json()
    assert limit["threshold_amount"] == 1250 and limit["interval"] == "month"
    assert permissions == {"object": "project.model_permissions", "mode": "allow_list", "model_ids": ["gpt-*"]}
    assert project["max_requests_per_1_minute"] == 600 and project["name"] == XSS


def test_limits_per_model(console_server: LiveServer, browser: WebDriver, flow: dict[str, str]) -> None:
    browser.get(console_server.url + f"/console/projects/{flow['project_id']}")
    row = browser.find_element(By.CSS_SELECTOR, f"#model-limits tr[data-model='{VIA_ANTHROPIC}']")
    row.find_element(By.NAME, "max_tokens_per_1_minute").send_keys("5000")
    row.find_element(By.CSS_SELECTOR, "button").click()
    wait_for(browser, lambda d: f"Limits for {VIA_ANTHROPIC} saved." in d.find_element(By.TAG_NAME, "main").text)
    from tests.tenants import admin_client

    with admin_client(console_server.url) as admin:
        limits = admin.get(f"/projects/{flow['project_id']}/rate_limits").json()["data"]
    chosen = next(r for r in limits if r["model"] == VIA_ANTHROPIC)
    assert chosen["max_tokens_per_1_minute"] == 5000 and chosen["max_requests_per_1_minute"] == 0
