"""The per-project moderation guardrail on chat, Responses and Anthropic Messages, through
the official SDKs against a live server: ``block`` answers a 400 in each surface's own
shape before any model is called, ``flag`` lets the call through with a header, ``log``
writes a log line. The embedded classifier decides, for real."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from tests.e2e.media import BENIGN, CHAT, LOCAL_MODERATION, TOXIC, UPSTREAM_MODERATION, start_media_server
from tests.fakes import media_wire as mw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer, sdk
from tests.tenants import admin_client, new_key, new_project

FLAG_HEADER = "x-switchyard-moderation-flagged"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    server = start_media_server(tmp_path_factory.mktemp("guardrail"), fake_openai, images=False)
    yield server
    server.stop()


def _project_with_guardrail(live: LiveServer, name: str, **guardrail: object) -> tuple[str, str]:
    project = new_project(live.url, name)
    if guardrail:
        with admin_client(live.url) as admin:
            response = admin.post(f"/projects/{project}/moderation", json=guardrail)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["object"] == "project.moderation" and body["mode"] == guardrail["mode"]
    return project, new_key(live.url, project)[1]


@pytest.fixture(scope="module")
def block_key(live: LiveServer) -> str:
    return _project_with_guardrail(live, "blocks", mode="block")[1]


def _claude(live: LiveServer, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=live.url, api_key=key, max_retries=0, timeout=60,
                               _strict_response_validation=True)


def _chat(client: openai.OpenAI, text: str) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": text}])


# --- block ------------------------------------------------------------------------------------------

def test_block_refuses_offensive_chat_input_before_the_model(live: LiveServer, block_key: str,
                                                            fake_openai: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _chat(sdk(live, block_key), TOXIC)
    error = caught.value.body
    assert caught.value.status_code == 400
    assert error["code"] == "content_policy_violation" and error["param"] == "messages"
    assert "harassment" in error["message"] and LOCAL_MODERATION in error["message"]
    assert fake_openai.received == []  # no model was called


def test_block_passes_benign_chat_input(live: LiveServer, block_key: str, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.completion("Enjoy the walk!"))
    reply = _chat(sdk(live, block_key), BENIGN)
    assert reply.choices[0].message.content == "Enjoy the walk!"
    assert ow.sent_texts(fake_openai.last.body)[-1] == ("user", BENIGN)


def test_block_refuses_a_streamed_chat_with_a_status(live: LiveServer, block_key: str,
                                                     fake_openai: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live, block_key).chat.completions.create(
            model=CHAT, stream=True, messages=[{"role": "user", "content": TOXIC}])
    assert caught.value.body["code"] == "content_policy_violation"
    assert fake_openai.received == []


def test_block_checks_only_the_latest_user_turn(live: LiveServer, block_key: str,
                                                fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.completion("Sure."))
    reply = sdk(live, block_key).chat.completions.create(model=CHAT, messages=[
        {"role": "user", "content": TOXIC}, {"role": "assistant", "content": "Let's keep it civil."},
        {"role": "user", "content": BENIGN}])
    assert reply.choices[0].message.content == "Sure."


def test_block_on_responses_names_input(live: LiveServer, block_key: str, fake_openai: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live, block_key).responses.create(model=CHAT, input=TOXIC)
    assert caught.value.body["code"] == "content_policy_violation"
    assert caught.value.body["param"] == "input"
    assert fake_openai.received == []


def test_block_on_anthropic_messages_in_anthropic_shape(live: LiveServer, block_key: str,
                                                        fake_openai: FakeUpstream) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        _claude(live, block_key).messages.create(model=CHAT, max_tokens=50,
                                                messages=[{"role": "user", "content": TOXIC}])
    body = caught.value.body
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "moderation guardrail" in body["error"]["message"]
    assert fake_openai.received == []


def test_block_limited_to_other_categories_lets_harassment_through(live: LiveServer,
                                                                     fake_openai: FakeUpstream) -> None:
    _, key = _project_with_guardrail(live, "violence only", mode="block", categories=["violence"])
    fake_openai.script(ow.completion("ok"))
    assert _chat(sdk(live, key), TOXIC).choices[0].message.content == "ok"


def test_block_with_a_relayed_moderation_model(live: LiveServer, fake_openai: FakeUpstream) -> None:
    _, key = _project_with_guardrail(live, "relayed", mode="block", model=UPSTREAM_MODERATION)
    fake_openai.script(mw.moderation(mw.moderation_result({"self-harm": 0.97})))
    with pytest.raises(openai.BadRequestError) as caught:
        _chat(sdk(live, key), "a sentence the upstream judges")
    assert "self-harm" in caught.value.body["message"]
    assert [r.path for r in fake_openai.received] == ["/v1/moderations"]
    assert fake_openai.last.body == {"model": "omni-moderation-2024-09-26",
                                     "input": ["a sentence the upstream judges"]}


def test_block_fails_closed_when_the_moderation_model_fails(live: LiveServer, fake_openai: FakeUpstream) -> None:
    _, key = _project_with_guardrail(live, "relayed down", mode="block", model=UPSTREAM_MODERATION)
    fake_openai.script(ow.error(500, "moderation is down", "server_error"))
    with pytest.raises(openai.APIStatusError) as caught:
        _chat(sdk(live, key), BENIGN)
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "guardrail_unavailable"
    assert [r.path for r in fake_openai.received] == ["/v1/moderations"]


def test_a_project_without_a_guardrail_is_not_screened(live: LiveServer, fake_openai: FakeUpstream) -> None:
    _, key = _project_with_guardrail(live, "no guardrail")
    fake_openai.script(ow.completion("as you wish"))
    assert _chat(sdk(live, key), TOXIC).choices[0].message.content == "as you wish"


# --- flag and log -----------------------------------------------------------------------------------

def test_flag_lets_the_call_through_with_a_header(live: LiveServer, fake_openai: FakeUpstream) -> None:
    _, key = _project_with_guardrail(live, "flags", mode="flag")
    fake_openai.script(ow.completion("answered"), ow.completion("answered again"))
    raw = sdk(live, key).chat.completions.with_raw_response.create(
        model=CHAT, messages=[{"role": "user", "content": TOXIC}])
    assert raw.headers[FLAG_HEADER] == "harassment"
    assert raw.parse().choices[0].message.content == "answered"
    raw = sdk(live, key).chat.completions.with_raw_response.create(
        model=CHAT, messages=[{"role": "user", "content": BENIGN}])
    assert FLAG_HEADER not in raw.headers
    assert raw.parse().choices[0].message.content == "answered again"


def test_log_writes_a_line_and_nothing_else(live: LiveServer, fake_openai: FakeUpstream) -> None:
    _, key = _project_with_guardrail(live, "logs", mode="log")
    fake_openai.script(ow.completion("logged"))
    raw = sdk(live, key).chat.completions.with_raw_response.create(
        model=CHAT, messages=[{"role": "user", "content": TOXIC}])
    assert FLAG_HEADER not in raw.headers
    assert raw.parse().choices[0].message.content == "logged"
    request_id = raw.headers["x-request-id"]
    lines = [line for line in live.log_path.read_text().splitlines() if request_id in line]
    assert any("moderation guardrail flagged input" in line and "mode=log" in line
               and "categories=harassment" in line for line in lines), lines


# --- the administration API -------------------------------------------------------------------------

def test_guardrail_settings_read_back_and_turn_off(live: LiveServer, fake_openai: FakeUpstream) -> None:
    project, key = _project_with_guardrail(live, "toggled", mode="block", categories=["harassment", "hate"])
    with admin_client(live.url) as admin:
        body = admin.get(f"/projects/{project}/moderation").json()
        assert body == {"object": "project.moderation", "project_id": project, "enabled": True, "mode": "block",
                        "output_mode": None, "model": None, "categories": ["harassment", "hate"]}
        assert admin.delete(f"/projects/{project}/moderation").json()["enabled"] is False
    fake_openai.script(ow.completion("no longer screened"))
    assert _chat(sdk(live, key), TOXIC).choices[0].message.content == "no longer screened"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({}, 400, "mode"),
        ({"mode": "shout"}, 400, "mode"),
        ({"mode": "block", "categories": ["rudeness"]}, 400, "categories[0]"),
        ({"mode": "block", "categories": "harassment"}, 400, "categories"),
        ({"mode": "block", "model": "no-such-model"}, 404, "model"),
        ({"mode": "block", "model": CHAT}, 400, "model"),
        ({"mode": "block", "threshold": 0.2}, 400, "threshold"),
    ],
)
def test_bad_guardrail_settings_name_the_field(live: LiveServer, body: dict, status: int, param: str) -> None:
    project = new_project(live.url, "bad settings")
    with admin_client(live.url) as admin:
        response = admin.post(f"/projects/{project}/moderation", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_guardrail_of_an_unknown_project_is_404(live: LiveServer) -> None:
    with admin_client(live.url) as admin:
        response = admin.post("/projects/proj_nope/moderation", json={"mode": "block"})
    assert response.status_code == 404, response.text


def test_project_keys_cannot_change_the_guardrail(live: LiveServer, block_key: str) -> None:
    response = httpx.delete(live.url + "/v1/organization/projects/proj_default/moderation",
                            headers={"authorization": f"Bearer {block_key}"})
    assert response.status_code in (401, 403), response.text


def test_block_applies_to_a_background_response_as_queued(live: LiveServer, block_key: str,
                                                          fake_openai: FakeUpstream) -> None:
    client = sdk(live, block_key)
    queued = client.responses.create(model=CHAT, input=TOXIC, background=True)
    assert queued.status in ("queued", "in_progress")
    deadline = time.monotonic() + 30
    response = client.responses.retrieve(queued.id)
    while response.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.2)
        response = client.responses.retrieve(queued.id)
    assert response.status == "failed", response
    assert response.error is not None and "moderation guardrail" in response.error.message
    assert fake_openai.received == []


def test_a_relayed_guardrail_screens_images_too(live: LiveServer, fake_openai: FakeUpstream) -> None:
    _, key = _project_with_guardrail(live, "relayed images", mode="block", model=UPSTREAM_MODERATION)
    fake_openai.script(mw.moderation(mw.moderation_result({"violence/graphic": 0.93}, ["image"])))
    content = [{"type": "text", "text": "what is this?"},
               {"type": "image_url", "image_url": {"url": "https://example.com/scene.png"}}]
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live, key).chat.completions.create(model=CHAT, messages=[{"role": "user", "content": content}])
    assert "violence/graphic" in caught.value.body["message"]
    assert [r.path for r in fake_openai.received] == ["/v1/moderations"]
    assert fake_openai.last.body["input"] == content
