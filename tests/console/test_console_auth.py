"""Signing in and the console's refusals: no session, a project key, a wrong key,
a missing CSRF token (forms and the login form itself), a revoked admin key, and
redirects that stay on the console."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.conftest import admin_key, console_client, csrf_of, login, shot, wait_for
from tests.server import LiveServer
from tests.tenants import admin_client, new_key, new_project


def test_pages_without_a_session_redirect_to_sign_in_and_calls_are_401(console_server: LiveServer) -> None:
    with httpx.Client(base_url=console_server.url, follow_redirects=False) as anonymous:
        for path in ("/console/", "/console/projects", "/console/requests", "/console/playground",
                     "/console/models", "/console/files"):
            answer = anonymous.get(path)
            assert answer.status_code == 303, (path, answer.text)
            assert answer.headers["location"].startswith("/console/login?next="), answer.headers
        missing = anonymous.get("/console/no-such-page")
        assert missing.status_code == 404 and "no console page at /console/no-such-page" in missing.text
        assert missing.headers["content-type"].startswith("text/html")
        bare = anonymous.get("/console", follow_redirects=True)
        assert bare.url.path == "/console/login" and 'id="login-form"' in bare.text
        refused = anonymous.post("/console/projects", data={"name": "sneaky"})
        assert refused.status_code == 401
        assert "Sign in to the console first." in refused.text
        streamed = anonymous.post("/console/playground/run", json={"surface": "chat"})
        assert streamed.status_code == 401
        forged = anonymous.get("/console/projects", headers={"cookie": "sy_console=not-a-sealed-session"})
        assert forged.status_code == 303


def test_the_login_form_and_a_wrong_key(console_server: LiveServer, browser: WebDriver) -> None:
    browser.get(console_server.url + "/console/projects")
    wait_for(browser, lambda d: "/console/login" in d.current_url)
    assert browser.find_element(By.ID, "key").get_attribute("type") == "password"
    shot(browser, "01-login", phone=True)
    login(browser, console_server, "sk-sy-not-a-real-key")
    error = browser.find_element(By.CSS_SELECTOR, ".flash.error").text
    assert "That key was refused" in error and "Incorrect API key" in error


def test_a_project_key_cannot_sign_in(console_server: LiveServer, browser: WebDriver) -> None:
    project = new_project(console_server.url, "project key login")
    _, secret = new_key(console_server.url, project, "not an admin")
    login(browser, console_server, secret)
    assert "/console/login" in browser.current_url
    error = browser.find_element(By.CSS_SELECTOR, ".flash.error").text
    assert "Project API keys cannot sign in" in error
    assert not browser.get_cookie("sy_console")
    shot(browser, "01-login-project-key-refused")


def test_an_admin_key_signs_in_and_out_and_the_cookie_is_strict(console_server: LiveServer,
                                                                 browser: WebDriver) -> None:
    _, secret = admin_key(console_server, "signs in")
    login(browser, console_server, secret)
    wait_for(browser, lambda d: d.find_elements(By.ID, "total-requests"))
    cookie = browser.get_cookie("sy_console")
    assert cookie is not None and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert secret not in cookie["value"]  # sealed, not the key in clear
    assert "admin key key_" in browser.find_element(By.CSS_SELECTOR, ".who").text
    browser.find_element(By.ID, "logout").click()
    wait_for(browser, lambda d: "/console/login" in d.current_url)
    assert not browser.get_cookie("sy_console")
    browser.get(console_server.url + "/console/")
    wait_for(browser, lambda d: "/console/login" in d.current_url)


def test_deleting_the_admin_key_ends_its_sessions(console_server: LiveServer) -> None:
    key_id, secret = admin_key(console_server, "revoked later")
    client = console_client(console_server, secret)
    assert client.get("/console/projects").status_code == 200
    with admin_client(console_server.url) as admin:
        assert admin.delete(f"/admin_api_keys/{key_id}").status_code == 200
    answer = client.get("/console/projects")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")


def test_forms_without_the_csrf_token_are_refused(console_server: LiveServer) -> None:
    client = console_client(console_server)
    name = "csrf-forged-project"
    refused = client.post("/console/projects", data={"name": name})
    assert refused.status_code == 403 and "CSRF token" in refused.text
    wrong = client.post("/console/projects", data={"name": name, "csrf_token": "guess"})
    assert wrong.status_code == 403
    run = client.post("/console/playground/run", json={"surface": "chat", "project_id": "proj_default",
                                                       "body": {"model": "gpt-fake", "messages": []}})
    assert run.status_code == 403
    upload = client.post("/console/files/upload", files={"file": ("a.txt", b"hello")}, data={"purpose": "assistants"})
    assert upload.status_code == 403
    with admin_client(console_server.url) as admin:
        names = [p["name"] for p in admin.get("/projects", params={"limit": 100}).json()["data"]]
    assert name not in names
    made = client.post("/console/projects", data={"name": name, "csrf_token": csrf_of(client)})
    assert made.status_code == 303 and made.headers["location"].startswith("/console/projects/proj_")


def test_the_login_form_needs_its_own_token(console_server: LiveServer) -> None:
    with httpx.Client(base_url=console_server.url, follow_redirects=False) as client:
        answer = client.post("/console/login", data={"key": "sk-test-master", "next": "/console/"})
        assert answer.status_code == 403 and "sy_console" not in answer.cookies


def test_sign_in_only_redirects_within_the_console(console_server: LiveServer) -> None:
    with httpx.Client(base_url=console_server.url, follow_redirects=False) as client:
        form = client.get("/console/login", params={"next": "https://evil.example/"})
        assert 'name="next" value="/console/"' in form.text
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post("/console/login", data={"csrf_token": token, "key": "sk-test-master",
                                                     "next": "//evil.example/"})
        assert answer.status_code == 303 and answer.headers["location"] == "/console/"


def test_pages_carry_a_strict_content_security_policy(console_server: LiveServer) -> None:
    client = console_client(console_server)
    page = client.get("/console/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # every script is a file; data rides in application/json blocks


def test_admin_keys_made_in_the_console_sign_in_and_deleting_ones_own_signs_out(
        console_server: LiveServer, browser: WebDriver) -> None:
    login(browser, console_server)
    browser.get(console_server.url + "/console/admin-keys")
    browser.find_element(By.CSS_SELECTOR, "#new-admin-key [name='name']").send_keys("colleague <i>x</i>")
    browser.find_element(By.ID, "create-admin-key").click()
    secret = wait_for(browser, lambda d: d.find_elements(By.ID, "secret-value"))[0].text
    assert secret.startswith("sk-sy-admin-")
    assert "colleague <i>x</i>" in browser.find_element(By.ID, "admin-keys").text
    shot(browser, "10-admin-keys")
    browser.find_element(By.ID, "logout").click()
    wait_for(browser, lambda d: "/console/login" in d.current_url)
    login(browser, console_server, secret)
    browser.get(console_server.url + "/console/admin-keys")
    own = browser.find_element(By.XPATH, "//tr[.//span[text()='this session']]").get_attribute("data-key-id")
    browser.find_element(By.CSS_SELECTOR, f"[data-delete='{own}']").click()
    browser.switch_to.alert.accept()
    wait_for(browser, lambda d: "/console/login" in d.current_url)
    login(browser, console_server, secret)
    assert "Incorrect API key" in browser.find_element(By.CSS_SELECTOR, ".flash.error").text
