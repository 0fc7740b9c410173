"""Users, project members and service accounts from the browser: add a user (its name
escaped), change its role, make it a project member and change that role, remove it;
create a service account, call the API with the secret read off the page, delete the
account and see the key refused. Every change is checked through the administration API."""

from __future__ import annotations

import openai
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.console.conftest import login, shot, wait_for
from tests.server import LiveServer
from tests.tenants import admin_client, new_project

XSS = '<img src=x onerror="document.title=\'pwned\'">Ada "L" & co'


def _fill(driver: WebDriver, form_id: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        element = driver.find_element(By.CSS_SELECTOR, f"#{form_id} [name='{name}']")
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]").click()


def _flash(driver: WebDriver, saying: str) -> str:
    """The flash message once it says ``saying`` (the page before the form's answer has its own)."""
    return str(wait_for(driver, lambda d: [f.text for f in d.find_elements(By.CSS_SELECTOR, ".flash")
                                           if saying in f.text])[0])


def _user(server: LiveServer, email: str) -> dict[str, object] | None:
    with admin_client(server.url) as admin:
        found = [u for u in admin.get("/users", params={"limit": 100}).json()["data"] if u["email"] == email]
    return found[0] if found else None


@pytest.fixture(scope="module")
def signed_in(console_server: LiveServer, browser: WebDriver) -> WebDriver:
    login(browser, console_server)
    return browser


def test_users_are_added_given_roles_and_removed(console_server: LiveServer, signed_in: WebDriver) -> None:
    browser = signed_in
    browser.get(console_server.url + "/console/users")
    _fill(browser, "new-user", {"email": "ada@example.com", "name": XSS, "role": "reader"})
    assert _flash(browser, "ada@example.com added")
    user = _user(console_server, "ada@example.com")
    assert user is not None and user["name"] == XSS and user["role"] == "reader"
    row = browser.find_element(By.CSS_SELECTOR, f"#users tr[data-user-id='{user['id']}']")
    assert XSS in row.text and not row.find_elements(By.TAG_NAME, "img") and browser.title != "pwned"
    shot(browser, "09-users", phone=True)

    Select(row.find_element(By.NAME, "role")).select_by_value("owner")
    browser.find_element(By.CSS_SELECTOR, f"[data-save-role='{user['id']}']").click()
    assert _flash(browser, "is now owner")
    assert (_user(console_server, "ada@example.com") or {})["role"] == "owner"

    _fill(browser, "new-user", {"email": "ada@example.com"})
    assert _flash(browser, "exists already")
    browser.execute_script("document.querySelector('#new-user [name=email]').type = 'text'")  # past the
    # browser's own check, to the server's
    _fill(browser, "new-user", {"email": "not-an-address"})
    assert _flash(browser, "'email' must be an email address")

    browser.find_element(By.CSS_SELECTOR, f"[data-delete='{user['id']}']").click()
    browser.switch_to.alert.accept()
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f"#users tr[data-user-id='{user['id']}']"))
    assert _user(console_server, "ada@example.com") is None


def test_members_and_service_accounts_of_a_project(console_server: LiveServer, signed_in: WebDriver) -> None:
    browser = signed_in
    project = new_project(console_server.url, "people")
    with admin_client(console_server.url) as admin:
        user = admin.post("/users", json={"email": "grace@example.com", "name": "Grace"}).json()
    browser.get(console_server.url + f"/console/projects/{project}")
    _fill(browser, "add-member", {"email": "nobody@example.com"})
    assert _flash(browser, "nobody@example.com")  # no such user: refused, saying whom
    _fill(browser, "add-member", {"email": "grace@example.com", "role": "member"})
    assert _flash(browser, "grace@example.com is now a project member")
    row = browser.find_element(By.CSS_SELECTOR, f"#members tr[data-user-id='{user['id']}']")
    Select(row.find_element(By.NAME, "role")).select_by_value("owner")
    browser.find_element(By.CSS_SELECTOR, f"#members [data-save-role='{user['id']}']").click()
    assert _flash(browser, "is now a project owner")
    with admin_client(console_server.url) as admin:
        members = admin.get(f"/projects/{project}/users").json()["data"]
    assert [(m["id"], m["role"]) for m in members] == [(user["id"], "owner")]

    _fill(browser, "new-service-account", {"name": "ci bot"})
    secret = wait_for(browser, lambda d: d.find_element(By.ID, "secret-value")).text
    account_id = browser.find_element(By.CSS_SELECTOR, "#service-accounts tr[data-account-id]").get_attribute(
        "data-account-id")
    shot(browser, "09-project-people", phone=True)
    client = openai.OpenAI(base_url=console_server.url + "/v1", api_key=secret, max_retries=0,
                           _strict_response_validation=True)
    assert client.models.list().data  # the service account's key calls the API as the project
    browser.find_element(By.CSS_SELECTOR, f"#service-accounts [data-delete='{account_id}']").click()
    browser.switch_to.alert.accept()
    assert _flash(browser, "Service account deleted")
    with pytest.raises(openai.AuthenticationError):
        client.models.list()

    browser.find_element(By.CSS_SELECTOR, f"#members [data-remove='{user['id']}']").click()
    browser.switch_to.alert.accept()
    assert _flash(browser, "Member removed")
    with admin_client(console_server.url) as admin:
        assert admin.get(f"/projects/{project}/users").json()["data"] == []
