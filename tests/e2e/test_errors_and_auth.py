"""Bad input gets a clear 4xx in the surface's own shape, naming the field."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from tests.conftest import VIA_OPENAI
from tests.e2e.raw import post
from tests.server import MASTER_KEY
from tests.tenants import new_key, new_project

ANTHROPIC = {"anthropic-version": "2023-06-01"}


def _openai_error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"message", "type", "param", "code"} <= set(body["error"])
    return body["error"]


def _anthropic_error(response: httpx.Response) -> dict:
    body = response.json()
    assert body["type"] == "error", body
    assert {"type", "message"} <= set(body["error"])
    return body["error"]


@pytest.mark.parametrize(("body", "param"), [
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": VIA_OPENAI}, "messages"),
    ({"model": VIA_OPENAI, "messages": "hello"}, "messages"),
    ({"model": VIA_OPENAI, "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"model": VIA_OPENAI, "messages": [{"role": "user", "content": "x"}], "temperature": "hot"},
     "temperature"),
    ({"model": VIA_OPENAI, "messages": [{"role": "user", "content": "x"}], "max_tokens": -3},
     "max_tokens"),
    ({"model": VIA_OPENAI, "messages": [{"role": "user", "content": "x"}],
      "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice":
      {"type": "function", "function": {"name": "g"}}}, "tool_choice"),
])
def test_chat_bad_fields_are_named(server, body, param) -> None:
    response = post(server, "/v1/chat/completions", body)
    assert response.status_code == 400, response.text
    error = _openai_error(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] is not None and error["param"].startswith(param), error
    assert param.split("[")[0].split(".")[0] in error["message"] or error["param"] == param


@pytest.mark.parametrize(("body", "param"), [
    ({"model": VIA_OPENAI, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": VIA_OPENAI, "max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "nope"}]}]},
     "messages[0].content[0]"),
    ({"model": VIA_OPENAI, "max_tokens": "ten", "messages": [{"role": "user", "content": "x"}]},
     "max_tokens"),
])
def test_messages_bad_fields_are_named(server, body, param) -> None:
    response = post(server, "/v1/messages", body, headers=ANTHROPIC)
    assert response.status_code == 400, response.text
    error = _anthropic_error(response)
    assert error["type"] == "invalid_request_error"
    assert param.split("[")[0] in error["message"], error


@pytest.mark.parametrize(("path", "check"), [("/v1/chat/completions", _openai_error),
                                             ("/v1/messages", _anthropic_error)])
@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]"])
def test_malformed_json_is_400(server, path, check, raw) -> None:
    response = post(server, path, raw)
    assert response.status_code == 400
    assert "JSON" in check(response)["message"]


def test_body_too_large_is_413(server) -> None:
    big = {"model": VIA_OPENAI, "messages": [{"role": "user", "content": "x" * (33 * 1024 * 1024)}]}
    response = post(server, "/v1/chat/completions", big)
    assert response.status_code == 413
    _openai_error(response)


def test_unknown_model_is_404_in_both_shapes(oai, claude) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["param"] == "model" and "no-such-model" in caught.value.message
    with pytest.raises(anthropic.NotFoundError) as caught2:
        claude.messages.create(model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert caught2.value.body["error"]["type"] == "not_found_error"


def test_missing_or_wrong_key_is_401_in_each_shape(server) -> None:
    for key in (None, "sk-wrong"):
        r = post(server, "/v1/chat/completions", {"model": VIA_OPENAI, "messages": []}, key=key)
        assert r.status_code == 401
        assert _openai_error(r)["type"] == "authentication_error"
        r = post(server, "/v1/messages", {"model": VIA_OPENAI, "max_tokens": 1, "messages": []},
                 headers=ANTHROPIC, key=key)
        assert r.status_code == 401
        assert _anthropic_error(r)["type"] == "authentication_error"


def test_x_api_key_and_bearer_both_work(server) -> None:
    ok = httpx.get(server.url + "/v1/models", headers={"x-api-key": MASTER_KEY})
    assert ok.status_code == 200
    both = httpx.get(server.url + "/v1/models",
                     headers={"x-api-key": MASTER_KEY, "authorization": "Bearer sk-other"})
    assert both.status_code == 200


def test_unsupported_parameter_for_backend_is_400(oai) -> None:
    from tests.conftest import VIA_ANTHROPIC

    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model=VIA_ANTHROPIC, n=2, messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model=VIA_ANTHROPIC, logprobs=True,
                                    messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["param"] == "logprobs"


def test_unknown_route_is_404_json(server) -> None:
    r = httpx.get(server.url + "/v1/nothing-here", headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert r.status_code == 404
    _openai_error(r)


def test_optional_bodies_are_still_size_limited(server) -> None:
    empty = post(server, "/v1/conversations", b"")
    assert empty.status_code == 200 and empty.json()["object"] == "conversation"
    big = post(server, "/v1/conversations", b'{"metadata": {}, "pad": "' + b"x" * (33 * 1024 * 1024) + b'"}')
    assert big.status_code == 413
    _openai_error(big)


def test_forwarded_for_is_ignored_without_trusted_proxies(server) -> None:
    """Without ``trusted_proxies`` the TCP peer is the client: an X-Forwarded-For header, even
    one sent from loopback, does not carry a key past its IP allowlist."""
    project = new_project(server.url, "forwarded-for")
    _, secret = new_key(server.url, project, "forwarded-for", allowed_ips=["10.0.0.0/8"])
    refused = httpx.get(server.url + "/v1/models",
                        headers={"authorization": f"Bearer {secret}", "x-forwarded-for": "10.1.2.3"})
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "ip_not_allowed" and "127.0.0.1" in error["message"]
