"""Input parts that name a Switchyard file (Chat ``file`` parts, Responses ``input_file``
and ``input_image`` with ``file_id``) reach the backend as the file's content, never as
the id; another owner's file is a 404 naming the field, and nothing is sent upstream."""

from __future__ import annotations

import base64

import openai
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, VIA_RESPONSES
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes import responses_wire as rw
from tests.server import LiveServer
from tests.tenants import project_key

NOTES = b"The launch code is 4711.\n"
# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


@pytest.fixture
def notes(oai: openai.OpenAI) -> str:
    return oai.files.create(file=("notes.txt", NOTES, "text/plain"), purpose="user_data").id


@pytest.fixture
def picture(oai: openai.OpenAI) -> str:
    return oai.files.create(file=("dot.png", PNG, "image/png"), purpose="vision").id


@pytest.fixture
def stranger(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=project_key(server.url, "stranger"), max_retries=0)


def _chat_file(file_id: str) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "What is the code?"},
                                         {"type": "file", "file": {"file_id": file_id}}]}]


def test_chat_file_part_sends_the_content_to_an_openai_upstream(oai, fake_openai, notes) -> None:
    fake_openai.script(ow.completion("4711"))
    reply = oai.chat.completions.create(model=VIA_OPENAI, messages=_chat_file(notes))
    assert reply.choices[0].message.content == "4711"
    part = fake_openai.last.body["messages"][0]["content"][1]
    assert part == {"type": "file", "file": {
        "file_data": "data:text/plain;base64," + base64.b64encode(NOTES).decode(), "filename": "notes.txt"}}


def test_chat_file_part_sends_the_content_to_an_anthropic_upstream(oai, fake_anthropic, notes) -> None:
    fake_anthropic.script(aw.message([aw.text("4711")]))
    oai.chat.completions.create(model=VIA_ANTHROPIC, messages=_chat_file(notes))
    [_, document] = fake_anthropic.last.body["messages"][0]["content"]
    assert document["type"] == "document"
    assert document["source"] == {"type": "text", "media_type": "text/plain", "data": NOTES.decode()}
    assert document["title"] == "notes.txt"


def test_responses_input_file_sends_the_content(oai, fake_openai, notes) -> None:
    fake_openai.script(rw.reply(rw.message("4711")))
    answer = oai.responses.create(model=VIA_RESPONSES, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is the code?"}, {"type": "input_file", "file_id": notes}]}])
    assert answer.output_text == "4711"
    part = fake_openai.last.body["input"][0]["content"][1]
    assert part["type"] == "input_file" and "file_id" not in part
    assert part["file_data"] == "data:text/plain;base64," + base64.b64encode(NOTES).decode()
    # the stored input keeps the reference, as sent
    [item] = oai.responses.input_items.list(answer.id).data
    assert item.content[1].file_id == notes


def test_responses_input_image_by_file_id_reaches_a_vision_upstream(oai, fake_anthropic, picture) -> None:
    fake_anthropic.script(aw.message([aw.text("A dot.")]))
    oai.responses.create(model=VIA_ANTHROPIC, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"}, {"type": "input_image", "file_id": picture,
                                                          "detail": "auto"}]}])
    [_, image] = fake_anthropic.last.body["messages"][0]["content"]
    assert image == {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                 "data": base64.b64encode(PNG).decode()}}


def test_another_owners_file_is_not_found(stranger, fake_openai, notes) -> None:
    with pytest.raises(openai.NotFoundError) as chat:
        stranger.chat.completions.create(model=VIA_OPENAI, messages=_chat_file(notes))
    assert chat.value.body["param"] == "messages[0].content[1].file.file_id"
    with pytest.raises(openai.NotFoundError) as responses:
        stranger.responses.create(model=VIA_OPENAI, input=[{"role": "user", "content": [
            {"type": "input_text", "text": "Code?"}, {"type": "input_file", "file_id": notes}]}])
    assert responses.value.body["param"] == "input[0].content[1].file_id"
    assert fake_openai.received == []


def test_an_unknown_file_id_is_not_found(oai, fake_openai) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.responses.create(model=VIA_OPENAI, input=[{"role": "user", "content": [
            {"type": "input_image", "file_id": "file-nope", "detail": "auto"}]}])
    assert caught.value.body["param"] == "input[0].content[0].file_id"
    assert fake_openai.received == []
