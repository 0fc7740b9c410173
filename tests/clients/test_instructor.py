"""instructor on Switchyard, through the OpenAI client (tool and JSON-schema modes)
and the Anthropic client (tool mode), over both vendors' upstreams and the embedded
model. Its validation retry is the tool round trip: the failed call goes back with
the error as its result, and the model answers again."""

from __future__ import annotations

import anthropic
import instructor
import openai
import pytest
from pydantic import BaseModel, field_validator

from tests.clients.backends import ALL, UPSTREAMS, Backend, Call, Say
from tests.conftest import VIA_ANTHROPIC
from tests.server import MASTER_KEY, LiveServer

MODES = ["openai-tools", "openai-json-schema", "anthropic-tools"]
QUESTION = [{"role": "user", "content": "Which city is the capital of France? Give the city and its country."}]


class City(BaseModel):
    name: str
    country: str


class CapitalCity(City):
    @field_validator("name")
    @classmethod
    def capitalized(cls, value: str) -> str:
        if not value[:1].isupper():
            raise ValueError("the name must start with a capital letter")
        return value


def _client(server: LiveServer, mode: str) -> instructor.Instructor:
    if mode == "anthropic-tools":
        return instructor.from_anthropic(anthropic.Anthropic(base_url=server.url, api_key=MASTER_KEY,
                                                             max_retries=0, timeout=120))
    chosen = instructor.Mode.TOOLS if mode == "openai-tools" else instructor.Mode.JSON_SCHEMA
    return instructor.from_openai(openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY,
                                                max_retries=0, timeout=120), mode=chosen)


def _sampling(mode: str) -> dict:
    """Greedy decoding; the Anthropic SDK 2.x takes ``temperature`` only in the body."""
    return {"extra_body": {"temperature": 0}} if mode == "anthropic-tools" else {"temperature": 0}


def _answer(backend: Backend, mode: str, name: str = "Paris") -> Call | Say:
    value = {"name": name, "country": "France"}
    if mode == "openai-json-schema":
        return Say(f'{{"name": "{name}", "country": "France"}}')
    return Call.one(f"call_{name}", "City", value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_structured_output(server: LiveServer, backend: Backend, mode: str) -> None:
    backend.script(_answer(backend, mode))
    city = _client(server, mode).create(model=backend.model, response_model=City, messages=QUESTION,
                                        max_tokens=backend.max_tokens, max_retries=0, **_sampling(mode))
    assert isinstance(city, City) and city.name and city.country
    if backend.scripted:
        assert city.model_dump() == {"name": "Paris", "country": "France"}


@pytest.mark.parametrize("mode", ["openai-tools", "anthropic-tools"])
@pytest.mark.parametrize("backend", UPSTREAMS, indirect=True)
def test_validation_retry_is_a_tool_round_trip(server: LiveServer, backend: Backend, mode: str) -> None:
    backend.script(_answer(backend, mode, "paris"), _answer(backend, mode, "Paris"))
    city = _client(server, mode).create(model=backend.model, response_model=CapitalCity, messages=QUESTION,
                                        max_tokens=backend.max_tokens, max_retries=1)
    assert isinstance(city, CapitalCity) and city.model_dump() == {"name": "Paris", "country": "France"}
    first, second = backend.sent()
    assert len(second["messages"]) > len(first["messages"])
    if backend.model == VIA_ANTHROPIC or mode == "openai-tools":
        assert any("capital letter" in text for text in backend.tool_results())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_streamed_partials(server: LiveServer, backend: Backend, mode: str) -> None:
    backend.script(_answer(backend, mode))
    partials = list(_client(server, mode).create_partial(
        model=backend.model, response_model=City, messages=QUESTION, max_tokens=backend.max_tokens,
        max_retries=0, **_sampling(mode)))
    # JSON-schema output on the Anthropic upstream is validated whole before it is sent
    # (Switchyard enforces it there), so it arrives as one partial.
    buffered = mode == "openai-json-schema" and backend.model == VIA_ANTHROPIC
    assert len(partials) >= (1 if buffered else 2)
    final = partials[-1]
    assert final.name and final.country
    if backend.scripted:
        assert (final.name, final.country) == ("Paris", "France")
        assert backend.sent()[-1].get("stream") is (None if buffered else True)
