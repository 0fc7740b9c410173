"""The playground: a streamed chat on each of the three surfaces through a scripted
upstream, the request shown as code, a prompt full of markup shown as text, and the
models page with its routing table and test button."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.console.conftest import login, shot, wait_for
from tests.fakes import anthropic_wire
from tests.fakes.openai_wire import completion, stream
from tests.fakes.upstream import FakeUpstream, by_stream
from tests.server import LiveServer

PROMPT = "<script>document.title='pwned'</script> say hi"


@pytest.fixture(scope="module", autouse=True)
def signed_in(console_server: LiveServer, browser: WebDriver) -> None:
    login(browser, console_server)


def _send(driver: WebDriver, text: str) -> str:
    before = len(driver.find_elements(By.CSS_SELECTOR, "#pg-transcript .msg[data-role='assistant']"))
    driver.find_element(By.ID, "pg-prompt").send_keys(text)
    driver.find_element(By.ID, "pg-send").click()
    done = wait_for(driver, lambda d: [m for m in d.find_elements(
        By.CSS_SELECTOR, "#pg-transcript .msg[data-role='assistant'][data-done]")][before:])
    assert done[0].get_attribute("data-done") == "true", done[0].text
    return str(done[0].text)


@pytest.mark.parametrize("surface", ["chat", "responses", "messages"])
def test_a_streamed_chat_on_each_surface(console_server: LiveServer, browser: WebDriver,
                                         fake_openai: FakeUpstream, surface: str) -> None:
    browser.get(console_server.url + "/console/playground")
    Select(browser.find_element(By.ID, "pg-model")).select_by_visible_text(VIA_OPENAI)
    Select(browser.find_element(By.ID, "pg-surface")).select_by_value(surface)
    fake_openai.script(stream(["Hel", "lo ", "<b>there</b>"]))
    assert _send(browser, PROMPT) == "Hello <b>there</b>"
    assert fake_openai.last.body["stream"] is True
    sent = fake_openai.last.body["messages"]
    assert sent[-1]["content"] in (PROMPT, [{"type": "text", "text": PROMPT}])
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "#pg-transcript b, #pg-transcript script")
    user = browser.find_elements(By.CSS_SELECTOR, "#pg-transcript .msg[data-role='user']")[-1]
    assert user.text == PROMPT
    code = browser.find_element(By.ID, "pg-code").text
    path = {"chat": "/v1/chat/completions", "responses": "/v1/responses", "messages": "/v1/messages"}[surface]
    assert f"curl {console_server.url}{path}" in code and f'"model": "{VIA_OPENAI}"' in code
    for lang, marker in (("python", "client = "), ("js", "const client = new ")):
        browser.find_element(By.CSS_SELECTOR, f".tabs [data-lang='{lang}']").click()
        assert marker in browser.find_element(By.ID, "pg-code").text
    shot(browser, f"05-playground-{surface}", phone=surface == "chat")


def test_tools_and_structured_output_are_sent_and_a_tool_call_shown(console_server: LiveServer, browser: WebDriver,
                                                                     fake_openai: FakeUpstream) -> None:
    browser.get(console_server.url + "/console/playground")
    Select(browser.find_element(By.ID, "pg-model")).select_by_visible_text(VIA_OPENAI)
    browser.find_element(By.ID, "pg-tools").click()
    browser.find_element(By.ID, "pg-json").click()
    fake_openai.script(stream([], tool_calls=[("call_1", "get_weather", ['{"city":', '"Oslo"}'])]))
    assert _send(browser, "weather in Oslo?") == '[get_weather] {"city":"Oslo"}'
    sent = fake_openai.last.body
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]
    assert sent["response_format"]["type"] == "json_schema"
    assert '"response_format"' in browser.find_element(By.ID, "pg-code").text


def test_a_second_turn_carries_the_history_and_lands_in_the_ledger(console_server: LiveServer, browser: WebDriver,
                                                                   fake_openai: FakeUpstream) -> None:
    browser.get(console_server.url + "/console/playground")
    Select(browser.find_element(By.ID, "pg-model")).select_by_visible_text(VIA_OPENAI)
    browser.find_element(By.ID, "pg-stream").click()  # off: a whole answer
    fake_openai.script(completion("first answer"), completion("second answer"))
    assert _send(browser, "one") == "first answer"
    assert _send(browser, "two") == "second answer"
    texts = [(m["role"], m["content"]) for m in fake_openai.last.body["messages"]]
    assert texts == [("user", "one"), ("assistant", "first answer"), ("user", "two")]
    assert "stream" not in fake_openai.last.body or fake_openai.last.body["stream"] is False


def test_a_refused_request_shows_the_error_naming_the_field(console_server: LiveServer, browser: WebDriver) -> None:
    browser.get(console_server.url + "/console/playground")
    Select(browser.find_element(By.ID, "pg-model")).select_by_visible_text(VIA_OPENAI)
    browser.find_element(By.ID, "pg-max").clear()
    browser.find_element(By.ID, "pg-max").send_keys("-5")
    browser.find_element(By.ID, "pg-prompt").send_keys("hello")
    browser.find_element(By.ID, "pg-send").click()
    failed = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg[data-done='error']"))
    assert "max_completion_tokens" in failed[0].text


def test_the_models_page_and_its_test_button(console_server: LiveServer, browser: WebDriver,
                                             fake_openai: FakeUpstream) -> None:
    browser.get(console_server.url + "/console/models")
    table = browser.find_element(By.ID, "deployments").text
    assert VIA_OPENAI in table and "closed" in table and "gpt-upstream" in table
    assert "2.50" in browser.find_element(By.ID, "models").text
    fake_openai.script(completion("ready"))
    browser.find_element(By.CSS_SELECTOR, f"[data-test-model='{VIA_OPENAI}']").click()
    result = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-test-result]"))[0]
    assert result.get_attribute("data-test-result") == "ok" and "ready" in result.text and "200" in result.text
    assert fake_openai.last.body["messages"][-1]["content"] == "Reply with the single word: ready"
    shot(browser, "06-models", phone=True)


def test_testing_one_deployment_goes_straight_to_it(console_server: LiveServer, browser: WebDriver,
                                                     fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> None:
    from tests.fakes.openai_wire import error

    browser.get(console_server.url + "/console/models")
    ready = [anthropic_wire.text("claude says ready")]
    fake_anthropic.script(by_stream(anthropic_wire.message(ready), anthropic_wire.stream(ready)))
    browser.find_element(By.CSS_SELECTOR, f"[data-probe='{VIA_ANTHROPIC}']").click()
    result = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-probe-result]"))[0]
    assert result.get_attribute("data-probe-result") == "ok" and "claude says ready" in result.text
    assert fake_anthropic.last.path == "/v1/messages" and fake_anthropic.last.body["max_tokens"] == 16
    fake_openai.script(error(401, "bad upstream key", "authentication_error"))  # every retry gets the same
    fake_openai.script(*[error(401, "bad upstream key", "authentication_error")] * 3)
    browser.find_element(By.CSS_SELECTOR, f"[data-probe='{VIA_OPENAI}']").click()
    failed = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-probe-result='failed']"))[0]
    assert "401" in failed.text or "bad upstream key" in failed.text


def test_adding_tuning_and_removing_a_deployment(console_server: LiveServer, browser: WebDriver,
                                                 fake_anthropic: FakeUpstream) -> None:
    browser.get(console_server.url + "/console/models")
    form = browser.find_element(By.ID, "new-deployment")
    form.find_element(By.NAME, "model").send_keys(VIA_OPENAI)
    Select(form.find_element(By.NAME, "provider")).select_by_visible_text("openai")
    form.find_element(By.NAME, "base_url").send_keys("ftp://nowhere")
    browser.find_element(By.ID, "add-deployment").click()
    error = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.error"))[0].text
    assert "base_url" in error
    form = browser.find_element(By.ID, "new-deployment")
    form.find_element(By.NAME, "model").send_keys(VIA_OPENAI)
    form.find_element(By.NAME, "base_url").send_keys(fake_anthropic.url + "/v1")
    form.find_element(By.NAME, "api_key").send_keys("sk-upstream-secret-1234")
    form.find_element(By.NAME, "upstream_model").send_keys("gpt-second")
    form.find_element(By.NAME, "priority").clear()
    form.find_element(By.NAME, "priority").send_keys("5")
    browser.find_element(By.ID, "add-deployment").click()
    notice = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.notice"))[0].text
    deployment = notice.split()[1]
    assert deployment.startswith("dep_")
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-deployment='{deployment}']").text
    assert "gpt-second" in row and "api" in row and "sk-upstream-secret-1234" not in browser.page_source
    edit = browser.find_element(By.CSS_SELECTOR, f"form[data-edit='{deployment}']")
    edit.find_element(By.NAME, "weight").clear()
    edit.find_element(By.NAME, "weight").send_keys("3")
    edit.find_element(By.NAME, "rpm").send_keys("120")
    edit.find_element(By.NAME, "breaker_error_rate").send_keys("1.5")
    edit.find_element(By.CSS_SELECTOR, "button").click()
    error = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.error"))[0].text
    assert "breaker_error_rate" in error
    from tests.tenants import admin_client

    with admin_client(console_server.url) as admin:
        assert admin.get(f"/deployments/{deployment}").json()["weight"] == 1.0  # nothing half-saved
    edit = browser.find_element(By.CSS_SELECTOR, f"form[data-edit='{deployment}']")
    for name, value in (("weight", "3"), ("rpm", "120"), ("breaker_failures", "2"), ("breaker_cooldown", "15"),
                        ("breaker_error_rate", "0.5"), ("breaker_min_calls", "4")):
        edit.find_element(By.NAME, name).clear()
        edit.find_element(By.NAME, name).send_keys(value)
    edit.find_element(By.CSS_SELECTOR, "button").click()
    wait_for(browser, lambda d: "saved" in d.find_element(By.CSS_SELECTOR, ".flash.notice").text)

    with admin_client(console_server.url) as admin:
        stored = admin.get(f"/deployments/{deployment}").json()
    assert (stored["weight"], stored["priority"], stored["rpm"], stored["upstream_model"]) == (3.0, 5, 120,
                                                                                              "gpt-second")
    assert (stored["breaker_failures"], stored["breaker_cooldown"], stored["breaker_error_rate"],
            stored["breaker_window"], stored["breaker_min_calls"]) == (2, 15.0, 0.5, None, 4)
    edit = browser.find_element(By.CSS_SELECTOR, f"form[data-edit='{deployment}']")
    assert edit.find_element(By.NAME, "breaker_failures").get_attribute("value") == "2"
    assert edit.find_element(By.NAME, "breaker_window").get_attribute("value") == ""
    shot(browser, "06-models-deployment-added")
    browser.find_element(By.CSS_SELECTOR, f"[data-delete='{deployment}']").click()
    browser.switch_to.alert.accept()
    wait_for(browser, lambda d: "removed" in d.find_element(By.CSS_SELECTOR, ".flash.notice").text)
    assert not browser.find_elements(By.CSS_SELECTOR, f"tr[data-deployment='{deployment}']")
