"""What the gateway adds around a model: stored keys, structured outputs on
upstreams that cannot enforce them, keep-alives, and the store on PostgreSQL."""

from __future__ import annotations

import json

import anthropic
import openai
import orjson
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, upstream_models
from tests.e2e.raw import sse
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.pg import fresh_postgres_url
from tests.server import LiveServer
from tests.tenants import new_key, new_project, project_key, revoke_key

PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name", "age"], "additionalProperties": False}
PERSON_FORMAT = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}


async def test_stored_api_key_authenticates_until_revoked(server, fake_openai) -> None:
    project = new_project(server.url, "alice")
    key_id, secret = new_key(server.url, project)
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=secret, max_retries=0,
                                _strict_response_validation=True)
    fake_openai.script(ow.completion("with a stored key"))
    reply = await client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content == "with a stored key"
    revoke_key(server.url, project, key_id)
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "x"}])
    await client.close()


def test_json_schema_on_upstream_without_native_support_is_validated_and_retried(oai, fake_anthropic) -> None:
    fake_anthropic.script(aw.message([aw.text("Sure! Here is a person: Bob, 30")]),
                          aw.message([aw.text('```json\n{"name": "Bob", "age": 30}\n```')]))
    reply = oai.chat.completions.create(model=VIA_ANTHROPIC, response_format=PERSON_FORMAT,
                                        messages=[{"role": "user", "content": "A person"}])
    assert json.loads(reply.choices[0].message.content) == {"name": "Bob", "age": 30}
    assert len(fake_anthropic.received) == 2
    assert "JSON Schema" in json.dumps(fake_anthropic.last.body["system"])


def test_structured_output_gives_up_with_a_clear_error(oai, fake_anthropic) -> None:
    fake_anthropic.script(*[aw.message([aw.text('{"name": "Bob"}')]) for _ in range(3)])
    with pytest.raises(openai.APIStatusError) as caught:
        oai.chat.completions.create(model=VIA_ANTHROPIC, response_format=PERSON_FORMAT, stream=True,
                                    messages=[{"role": "user", "content": "A person"}])
    assert caught.value.status_code == 502
    assert "structured output" in caught.value.message and "age" in caught.value.message
    assert len(fake_anthropic.received) == 3


def test_json_schema_is_passed_through_to_openai_upstream(oai, fake_openai) -> None:
    fake_openai.script(ow.completion('{"name": "Ann", "age": 41}'))
    reply = oai.chat.completions.create(model=VIA_OPENAI, response_format=PERSON_FORMAT,
                                        messages=[{"role": "user", "content": "A person"}])
    assert json.loads(reply.choices[0].message.content)["name"] == "Ann"
    assert fake_openai.last.body["response_format"]["json_schema"]["schema"] == PERSON
    assert len(fake_openai.received) == 1


def test_strict_tool_arguments_are_checked_on_anthropic_upstream(claude, fake_anthropic) -> None:
    tool = {"name": "save", "description": "Save a person", "input_schema": PERSON, "strict": True}
    fake_anthropic.script(aw.message([aw.tool_use("toolu_1", "save", {"name": "Bob"})], stop_reason="tool_use"),
                          aw.message([aw.tool_use("toolu_2", "save", {"name": "Bob", "age": 5})],
                                     stop_reason="tool_use"))
    message = claude.messages.create(model=VIA_ANTHROPIC, max_tokens=100, tools=[tool],
                                     messages=[{"role": "user", "content": "Save Bob, 5"}])
    assert message.content[-1].input == {"name": "Bob", "age": 5}
    assert len(fake_anthropic.received) == 2


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_slow_upstream_gets_keepalives(server, fake_openai, path) -> None:
    slow = ow.stream(["a", "b"])
    slow.stall = (2, 2.5)
    fake_openai.script(slow)
    body = {"model": VIA_OPENAI, "stream": True, "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    if path == "/v1/messages":
        frames = sse(server, path, body, headers={"anthropic-version": "2023-06-01"})
        names = [n for n, _ in frames]
        assert "ping" in names[1:-1]
        assert names[-1] == "message_stop"
    else:
        import httpx

        from tests.server import MASTER_KEY

        with httpx.stream("POST", server.url + path, json=body, timeout=60,
                          headers={"authorization": f"Bearer {MASTER_KEY}"}) as response:
            raw = response.read().decode()
        assert ": keep-alive" in raw
        events = [line for line in raw.splitlines() if line and not line.startswith(":")]  # not comments
        assert events[-1] == "data: [DONE]"


async def test_server_on_postgresql(tmp_path, fake_openai, fake_anthropic) -> None:
    async with fresh_postgres_url() as url:
        live = LiveServer(tmp_path, upstream_models(fake_openai, fake_anthropic), database_url=url)
        live.start(wait_ready=True, timeout=60)
        try:
            secret = project_key(live.url, "alice")
            fake_anthropic.script(aw.stream([aw.text("from postgres")]))
            client = anthropic.AsyncAnthropic(base_url=live.url, api_key=secret, max_retries=0,
                                              _strict_response_validation=True)
            async with client.messages.stream(model=VIA_ANTHROPIC, max_tokens=20,
                                              messages=[{"role": "user", "content": "hi"}]) as stream:
                final = await stream.get_final_message()
            assert final.content[0].text == "from postgres"
            await client.close()
        finally:
            live.stop()


def test_failure_before_first_event_keeps_the_http_status(server, fake_openai) -> None:
    fake_openai.script(ow.error(429, "slow down", type_="rate_limit_error", headers={"retry-after": "3"}))
    import httpx

    from tests.server import MASTER_KEY

    response = httpx.post(server.url + "/v1/messages", timeout=30,
                          content=orjson.dumps({"model": VIA_OPENAI, "max_tokens": 5, "stream": True,
                                                "messages": [{"role": "user", "content": "x"}]}),
                          headers={"x-api-key": MASTER_KEY, "anthropic-version": "2023-06-01",
                                   "content-type": "application/json"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["type"] == "rate_limit_error"
