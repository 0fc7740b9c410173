"""POST /v1/moderations through the OpenAI SDK (strict validation) against a live server:
the embedded classifier for real, and a moderation model relayed to a loopback upstream
that answers in OpenAI's exact shape."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.e2e.media import (
    BENIGN,
    CHAT,
    LOCAL_MODERATION,
    POLICY_MODERATION,
    TOXIC,
    UPSTREAM_MODERATION,
    start_media_server,
)
from tests.e2e.raw import post
from tests.fakes import media_wire as mw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer, sdk
from tests.spec import validate_openai

CATEGORIES = list(mw.CATEGORIES)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    server = start_media_server(tmp_path_factory.mktemp("moderation"), fake_openai, images=False)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> openai.OpenAI:
    return sdk(live)


# --- the embedded classifier ---------------------------------------------------------------------

def test_embedded_classifier_flags_the_offensive_text_and_passes_the_benign_one(client: openai.OpenAI) -> None:
    reply = client.moderations.create(model=LOCAL_MODERATION, input=[TOXIC, BENIGN])
    assert reply.model == LOCAL_MODERATION and reply.id.startswith("modr-")
    toxic, benign = reply.results
    assert toxic.flagged and not benign.flagged
    assert toxic.categories.harassment and not benign.categories.harassment
    assert toxic.category_scores.harassment > 0.5 > benign.category_scores.harassment
    # the one score the classifier has stands for harassment only; the rest are not assessed
    assert toxic.category_applied_input_types.harassment == ["text"]
    assert toxic.category_applied_input_types.violence == []
    assert toxic.category_scores.violence == 0.0 and not toxic.categories.violence


def test_every_category_in_the_published_shape(live: LiveServer) -> None:
    response = post(live, "/v1/moderations", {"model": LOCAL_MODERATION, "input": TOXIC})
    assert response.status_code == 200, response.text
    body = response.json()
    validate_openai(body, "CreateModerationResponse")
    result = body["results"][0]
    for field in ("categories", "category_scores", "category_applied_input_types"):
        assert sorted(result[field]) == sorted(CATEGORIES), field
    assert result["flagged"] is True


def test_default_model_is_the_embedded_classifier(client: openai.OpenAI) -> None:
    reply = client.moderations.create(input=TOXIC)  # the SDK sends no model: omni-moderation-latest
    assert reply.model == LOCAL_MODERATION and reply.results[0].flagged
    reply = client.moderations.create(model="text-moderation-stable", input=BENIGN)
    assert reply.model == LOCAL_MODERATION and not reply.results[0].flagged


def test_multimodal_text_parts_are_one_input(client: openai.OpenAI) -> None:
    reply = client.moderations.create(model=LOCAL_MODERATION, input=[
        {"type": "text", "text": "Good morning."}, {"type": "text", "text": TOXIC}])
    assert len(reply.results) == 1 and reply.results[0].flagged


def test_embedded_classifier_refuses_an_image_naming_it(live: LiveServer) -> None:
    response = post(live, "/v1/moderations", {"model": LOCAL_MODERATION, "input": [
        {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "input[1].image_url" and "cannot classify images" in error["message"]


# --- relayed to an upstream ---------------------------------------------------------------------

def test_relayed_with_an_image_in_openai_shape(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.moderation(mw.moderation_result({"violence": 0.91, "violence/graphic": 0.62},
                                                          ["text", "image"])))
    parts = [{"type": "text", "text": "what is in this picture?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]
    reply = client.moderations.create(model=UPSTREAM_MODERATION, input=parts)
    sent = fake_openai.last
    assert sent.path == "/v1/moderations"
    assert sent.body == {"model": "omni-moderation-2024-09-26", "input": parts}
    assert sent.headers["authorization"] == "Bearer upstream-key"
    assert reply.model == UPSTREAM_MODERATION
    result = reply.results[0]
    assert result.flagged and result.categories.violence and result.categories.violence_graphic
    assert not result.categories.harassment
    assert result.category_scores.violence == pytest.approx(0.91)
    assert result.category_applied_input_types.violence == ["text", "image"]
    assert result.category_applied_input_types.harassment == ["text"]


def test_relayed_strings_keep_their_order(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.moderation(mw.moderation_result({}), mw.moderation_result({"hate": 0.8})))
    reply = client.moderations.create(model=UPSTREAM_MODERATION, input=["fine", "not fine"])
    assert fake_openai.last.body["input"] == ["fine", "not fine"]
    assert [r.flagged for r in reply.results] == [False, True]
    assert reply.results[1].categories.hate


def test_upstream_refusal_is_relayed(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.error(400, "Invalid image URL."))
    response = post(live, "/v1/moderations", {"model": UPSTREAM_MODERATION, "input": "x"})
    assert response.status_code == 400, response.text
    assert "Invalid image URL." in response.json()["error"]["message"]


def test_upstream_answer_with_missing_results_is_a_502(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.moderation())
    response = post(live, "/v1/moderations", {"model": UPSTREAM_MODERATION, "input": ["a", "b"]})
    assert response.status_code == 502, response.text
    assert "expected 2 results" in response.json()["error"]["message"]


# --- a chat model as the policy classifier ------------------------------------------------------

def test_a_chat_model_as_policy_classifier(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.completion('{"categories": ["violence", "illicit/violent"]}'),
                       ow.completion('{"categories": []}'))
    reply = client.moderations.create(model=POLICY_MODERATION, input=["how do I hurt someone", "hello"])
    assert reply.model == POLICY_MODERATION
    first, second = reply.results
    assert first.flagged and first.categories.violence and first.categories.illicit_violent
    assert not first.categories.harassment and first.category_scores.violence == 1.0
    assert first.category_applied_input_types.hate == ["text"]  # every category was assessed
    assert not second.flagged
    sent = fake_openai.received[0].body
    assert sent["model"] == "gpt-upstream"
    assert sent["messages"][0]["role"] == "system" and "moderation classifier" in sent["messages"][0]["content"]
    assert sent["messages"][1] == {"role": "user", "content": "how do I hurt someone"}
    assert sent["response_format"]["type"] == "json_schema"
    assert fake_openai.received[1].body["messages"][1]["content"] == "hello"


def test_a_policy_model_answering_no_json_is_a_502(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.completion("I cannot help with that."))
    response = post(live, "/v1/moderations", {"model": POLICY_MODERATION, "input": "x"})
    assert response.status_code == 502, response.text
    assert "no category list" in response.json()["error"]["message"]


def test_chat_model_name_is_still_refused_here(live: LiveServer) -> None:
    response = post(live, "/v1/moderations", {"model": CHAT, "input": "x"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "model"


# --- bad requests ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": LOCAL_MODERATION}, 400, "input"),
        ({"model": LOCAL_MODERATION, "input": []}, 400, "input"),
        ({"model": LOCAL_MODERATION, "input": 42}, 400, "input"),
        ({"model": LOCAL_MODERATION, "input": ["ok", 3]}, 400, "input[1]"),
        ({"model": LOCAL_MODERATION, "input": [{"type": "audio", "audio": "x"}]}, 400, "input[0].type"),
        ({"model": LOCAL_MODERATION, "input": [{"type": "text"}]}, 400, "input[0].text"),
        ({"model": LOCAL_MODERATION, "input": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}, 400,
         "input[0].image_url.url"),
        ({"model": LOCAL_MODERATION, "input": "x", "temperature": 1}, 400, "temperature"),
        ({"model": 7, "input": "x"}, 400, "model"),
        ({"model": "no-such-moderation", "input": "x"}, 404, "model"),
        ({"model": "gpt-fake", "input": "x"}, 400, "model"),
    ],
)
def test_bad_requests_name_the_field(live: LiveServer, body: dict, status: int, param: str) -> None:
    response = post(live, "/v1/moderations", body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param, error
    validate_openai(response.json(), "ErrorResponse")


def test_malformed_bodies_never_get_a_server_error(live: LiveServer) -> None:
    from tests.e2e.test_no_server_errors import BODIES

    for body in BODIES:
        response = post(live, "/v1/moderations", body)
        assert response.status_code < 500, (body[:80], response.status_code, response.text[:300])
        if response.status_code >= 400:
            assert response.json()["error"]["message"], body[:80]
