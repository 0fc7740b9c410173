"""Stored responses and conversations browsable with their items; markup in them is text."""

from __future__ import annotations

import openai
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.conftest import VIA_OPENAI
from tests.console.conftest import login, shot, wait_for
from tests.fakes.openai_wire import completion
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import new_project

MARKUP = "<img src=x onerror=\"document.title='pwned'\"> what is stored?"


def test_responses_and_conversations_with_their_items(console_server: LiveServer, browser: WebDriver,
                                                      fake_openai: FakeUpstream) -> None:
    project = new_project(console_server.url, "stored things")
    client = openai.OpenAI(base_url=console_server.url + "/v1", api_key=MASTER_KEY, project=project,
                           max_retries=0, _strict_response_validation=True)
    fake_openai.script(completion("<b>kept</b> answer"))
    response = client.responses.create(model=VIA_OPENAI, input=MARKUP, instructions="be brief")
    conversation = client.conversations.create(
        metadata={"topic": "console"}, items=[{"type": "message", "role": "user", "content": MARKUP}])

    login(browser, console_server)
    browser.get(console_server.url + f"/console/stored?project_id={project}")
    assert [r.get_attribute("data-id") for r in browser.find_elements(
        By.CSS_SELECTOR, "#stored-responses tr[data-id]")] == [response.id]
    assert conversation.id in browser.find_element(By.ID, "stored-conversations").text
    shot(browser, "08-stored", phone=True)

    browser.find_element(By.CSS_SELECTOR, f"#stored-responses tr[data-id='{response.id}'] a").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "output-items"))
    assert MARKUP in browser.find_element(By.ID, "input-items").text
    assert "<b>kept</b> answer" in browser.find_element(By.ID, "output-items").text
    assert not browser.find_elements(By.CSS_SELECTOR, ".msg img, .msg b") and browser.title != "pwned"
    assert f'"id": "{response.id}"' in browser.find_element(By.ID, "object-json").text
    shot(browser, "08-stored-response")

    browser.get(console_server.url + f"/console/stored/conversations/{conversation.id}?project_id={project}")
    items = browser.find_elements(By.CSS_SELECTOR, "#input-items .msg")
    assert [i.get_attribute("data-label") for i in items] == ["user"] and MARKUP in items[0].text
    assert '"topic": "console"' in browser.find_element(By.ID, "object-json").text

    browser.get(console_server.url + f"/console/stored/responses/{response.id}?project_id=proj_default")
    assert "404" in browser.find_element(By.TAG_NAME, "h1").text  # another project's id: not found
