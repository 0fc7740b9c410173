"""Assistants v2: assistants through the official SDK's ``client.beta.assistants``
against a live server: every endpoint, cursor pagination both ways, another
project's ids, and bad input answered 400 naming the field."""

from __future__ import annotations

import openai
import pytest

from tests.e2e import assistants_support
from tests.e2e.assistants_support import CHAT, check_object, error_of, raw, upload
from tests.server import LiveServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks the Assistants API deprecated
echo, server, key, oai, other = (assistants_support.echo, assistants_support.server, assistants_support.key,
                                 assistants_support.oai, assistants_support.other)

FUNCTION = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
                                             "parameters": {"type": "object", "properties": {
                                                 "city": {"type": "string"}}, "required": ["city"]},
                                             "strict": True}}


def test_create_retrieve_modify_delete(oai: openai.OpenAI, server: LiveServer, key: str) -> None:
    created = oai.beta.assistants.create(
        model=CHAT, name="Math Tutor", description="Helps with sums.", instructions="Be brief.",
        tools=[{"type": "code_interpreter"},
               {"type": "file_search", "file_search": {"max_num_results": 7,
                                                       "ranking_options": {"ranker": "auto", "score_threshold": 0.2}}},
               FUNCTION],
        metadata={"team": "math"}, temperature=0.3, top_p=0.9, response_format={"type": "json_object"},
        reasoning_effort="low",
    )
    assert created.id.startswith("asst_") and created.object == "assistant"
    assert (created.model, created.name, created.description, created.instructions) == (
        CHAT, "Math Tutor", "Helps with sums.", "Be brief.")
    assert [t.type for t in created.tools] == ["code_interpreter", "file_search", "function"]
    assert created.tools[1].file_search.max_num_results == 7
    assert created.tools[1].file_search.ranking_options.score_threshold == 0.2
    assert created.tools[2].function.name == "get_weather" and created.tools[2].function.strict is True
    assert created.metadata == {"team": "math"} and created.temperature == 0.3 and created.top_p == 0.9
    assert created.response_format.type == "json_object"
    body = check_object(raw(server, key, "GET", f"/v1/assistants/{created.id}").json())
    assert body["created_at"] == created.created_at and body["reasoning_effort"] == "low"

    fetched = oai.beta.assistants.retrieve(created.id)
    assert fetched.model_dump() == created.model_dump()

    modified = oai.beta.assistants.update(created.id, name="Algebra Tutor", metadata={"team": "algebra"},
                                          tools=[FUNCTION], temperature=1.5)
    assert modified.name == "Algebra Tutor" and modified.metadata == {"team": "algebra"}
    assert [t.type for t in modified.tools] == ["function"] and modified.temperature == 1.5
    assert modified.instructions == "Be brief." and modified.created_at == created.created_at
    assert oai.beta.assistants.retrieve(created.id).name == "Algebra Tutor"

    deleted = oai.beta.assistants.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "assistant.deleted", True)
    with pytest.raises(openai.NotFoundError) as caught:
        oai.beta.assistants.retrieve(created.id)
    assert created.id in caught.value.message
    with pytest.raises(openai.NotFoundError):
        oai.beta.assistants.delete(created.id)


def test_defaults_of_a_bare_assistant(oai: openai.OpenAI, server: LiveServer, key: str) -> None:
    created = oai.beta.assistants.create(model=CHAT)
    body = check_object(raw(server, key, "GET", f"/v1/assistants/{created.id}").json())
    assert body["name"] is None and body["description"] is None and body["instructions"] is None
    assert body["tools"] == [] and body["metadata"] == {} and body["tool_resources"] == {}
    assert body["temperature"] == 1.0 and body["top_p"] == 1.0 and body["response_format"] == "auto"
    assert "reasoning_effort" not in body


def test_pagination_both_ways(oai: openai.OpenAI) -> None:
    ids = [oai.beta.assistants.create(model=CHAT, name=f"a{i}").id for i in range(5)]
    newest_first = list(reversed(ids))
    page = oai.beta.assistants.list(limit=2)
    assert [a.id for a in page.data] == newest_first[:2] and page.has_more is True
    assert page.first_id == newest_first[0] and page.last_id == newest_first[1]
    assert [a.id for a in oai.beta.assistants.list(limit=2)] == newest_first  # auto-paging follows `after`
    second = oai.beta.assistants.list(limit=2, after=page.last_id)
    assert [a.id for a in second.data] == newest_first[2:4] and second.has_more is True
    last = oai.beta.assistants.list(limit=2, after=second.last_id)
    assert [a.id for a in last.data] == newest_first[4:] and last.has_more is False
    ascending = oai.beta.assistants.list(order="asc", limit=10)
    assert [a.id for a in ascending.data] == ids and ascending.has_more is False
    before = oai.beta.assistants.list(order="asc", before=ids[3], limit=2)
    assert [a.id for a in before.data] == ids[1:3]
    assert before.has_more is True  # ids[0] precedes the page
    before_desc = oai.beta.assistants.list(before=ids[1], limit=2)
    assert [a.id for a in before_desc.data] == [ids[3], ids[2]] and before_desc.has_more is True
    assert oai.beta.assistants.list(after="asst_unknown").data == []


def test_bad_list_parameters(server: LiveServer, key: str) -> None:
    assert error_of(raw(server, key, "GET", "/v1/assistants?limit=0"), 400)["param"] == "limit"
    assert error_of(raw(server, key, "GET", "/v1/assistants?limit=101"), 400)["param"] == "limit"
    assert error_of(raw(server, key, "GET", "/v1/assistants?order=up"), 400)["param"] == "order"


def test_another_project_sees_nothing(oai: openai.OpenAI, other: openai.OpenAI) -> None:
    mine = oai.beta.assistants.create(model=CHAT, name="private")
    for call in (lambda: other.beta.assistants.retrieve(mine.id),
                 lambda: other.beta.assistants.update(mine.id, name="stolen"),
                 lambda: other.beta.assistants.delete(mine.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    assert mine.id not in [a.id for a in other.beta.assistants.list()]
    assert other.beta.assistants.list(after=mine.id).data == []
    assert oai.beta.assistants.retrieve(mine.id).name == "private"


@pytest.mark.parametrize(("body", "param"), [
    ({}, "model"),
    ({"model": 5}, "model"),
    ({"model": CHAT, "name": "n" * 257}, "name"),
    ({"model": CHAT, "description": "d" * 513}, "description"),
    ({"model": CHAT, "temperature": 2.5}, "temperature"),
    ({"model": CHAT, "top_p": -0.1}, "top_p"),
    ({"model": CHAT, "tools": [{"type": "web_search"}]}, "tools[0].type"),
    ({"model": CHAT, "tools": [{"type": "function"}]}, "tools[0].function"),
    ({"model": CHAT, "tools": [{"type": "function", "function": {"name": "bad name"}}]}, "tools[0].function.name"),
    ({"model": CHAT, "tools": [FUNCTION, FUNCTION]}, "tools[1].function.name"),
    ({"model": CHAT, "tools": [{"type": "file_search", "file_search": {"max_num_results": 51}}]},
     "tools[0].file_search.max_num_results"),
    ({"model": CHAT, "tools": [{"type": "file_search", "file_search": {"ranking_options": {"ranker": "x",
                                                                                           "score_threshold": 0}}}]},
     "tools[0].file_search.ranking_options.ranker"),
    ({"model": CHAT, "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ({"model": CHAT, "metadata": {"k": 1}}, "metadata.k"),
    ({"model": CHAT, "response_format": "json"}, "response_format"),
    ({"model": CHAT, "response_format": {"type": "json_schema"}}, "response_format.json_schema"),
    ({"model": CHAT, "reasoning_effort": "extreme"}, "reasoning_effort"),
    ({"model": CHAT, "tool_resources": {"file_search": {"vector_store_ids": ["vs_a", "vs_b"]}}},
     "tool_resources.file_search.vector_store_ids"),
    ({"model": CHAT, "tool_resources": {"file_search": {"vector_store_ids": ["vs_a"], "vector_stores": [{}]}}},
     "tool_resources.file_search"),
    ({"model": CHAT, "tool_resources": {"code_interpreter": {"file_ids": "file-x"}}},
     "tool_resources.code_interpreter.file_ids"),
    ({"model": CHAT, "colour": "blue"}, "colour"),
])
def test_bad_input_names_the_field(server: LiveServer, key: str, body: dict, param: str) -> None:
    error = error_of(raw(server, key, "POST", "/v1/assistants", json=body), 400)
    assert error["param"] == param, error
    assert error["type"] == "invalid_request_error" and error["message"]


def test_unknown_model_and_resources(oai: openai.OpenAI, server: LiveServer, key: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.beta.assistants.create(model="no-such-model")
    assert caught.value.body["param"] == "model" and caught.value.body["code"] == "model_not_found"
    created = oai.beta.assistants.create(model=CHAT)
    error = error_of(raw(server, key, "POST", f"/v1/assistants/{created.id}", json={"model": "nope"}), 400)
    assert error["param"] == "model"
    error = error_of(raw(server, key, "POST", "/v1/assistants", json={
        "model": CHAT, "tool_resources": {"file_search": {"vector_store_ids": ["vs_missing"]}}}), 404)
    assert error["param"] == "tool_resources.file_search.vector_store_ids[0]"
    error = error_of(raw(server, key, "POST", "/v1/assistants", json={
        "model": CHAT, "tool_resources": {"code_interpreter": {"file_ids": ["file-missing"]}}}), 404)
    assert error["param"] == "tool_resources.code_interpreter.file_ids[0]"
    assert error_of(raw(server, key, "GET", "/v1/assistants/asst_nope"), 404)["param"] == "assistant_id"


def test_tool_resources_and_vector_stores_on_the_fly(oai: openai.OpenAI, other: openai.OpenAI) -> None:
    notes = upload(oai, "notes.txt", "The meeting is on Thursday at noon.")
    data = upload(oai, "data.csv", "a,b\n1,2\n")
    created = oai.beta.assistants.create(model=CHAT, tools=[{"type": "file_search"}, {"type": "code_interpreter"}],
                                         tool_resources={"code_interpreter": {"file_ids": [data]},
                                                         "file_search": {"vector_stores": [{
                                                             "file_ids": [notes], "metadata": {"made": "inline"}}]}})
    assert created.tool_resources.code_interpreter.file_ids == [data]
    [store_id] = created.tool_resources.file_search.vector_store_ids
    store = oai.vector_stores.retrieve(store_id)
    assert store.metadata == {"made": "inline"} and store.file_counts.total == 1
    assert [f.id for f in oai.vector_stores.files.list(store_id)] == [notes]
    with pytest.raises(openai.NotFoundError):
        other.vector_stores.retrieve(store_id)
    # modify: a section given replaces the stored one; the other stays
    second = oai.vector_stores.create(name="second")
    modified = oai.beta.assistants.update(created.id, tool_resources={"file_search": {"vector_store_ids": [second.id]}})
    assert modified.tool_resources.file_search.vector_store_ids == [second.id]
    assert modified.tool_resources.code_interpreter.file_ids == [data]
    # another project's store or file is not found
    theirs = other.vector_stores.create(name="theirs")
    with pytest.raises(openai.NotFoundError):
        oai.beta.assistants.update(created.id, tool_resources={"file_search": {"vector_store_ids": [theirs.id]}})
    with pytest.raises(openai.NotFoundError):
        other.beta.assistants.create(model=CHAT, tool_resources={"code_interpreter": {"file_ids": [data]}})


def test_json_schema_response_format_round_trips(oai: openai.OpenAI) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {
        "type": "object", "properties": {"n": {"type": "integer"}}}, "strict": True}}
    created = oai.beta.assistants.create(model=CHAT, response_format=fmt)
    assert created.response_format.model_dump(exclude_none=True, by_alias=True) == fmt
