"""Assistants v2: threads and their messages through the official SDK's
``client.beta.threads`` against a live server: every endpoint, messages paged both
ways and filtered by run, attachments that put files in the thread's vector store
(made on the fly), another project's ids, and bad input answered 400 naming the field."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from tests.e2e import assistants_support
from tests.e2e.assistants_support import check_object, error_of, raw, upload, wait_store
from tests.server import LiveServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks the Assistants API deprecated
echo, server, key, oai, other = (assistants_support.echo, assistants_support.server, assistants_support.key,
                                 assistants_support.oai, assistants_support.other)

PNG_URL = "https://example.com/cat.png"


def test_thread_create_retrieve_modify_delete(oai: openai.OpenAI, server: LiveServer, key: str) -> None:
    data = upload(oai, "data.csv", "a,b\n1,2\n")
    thread = oai.beta.threads.create(
        messages=[{"role": "user", "content": "Hello there"},
                  {"role": "assistant", "content": [{"type": "text", "text": "Hi! How can I help?"}],
                   "metadata": {"seeded": "yes"}}],
        tool_resources={"code_interpreter": {"file_ids": [data]}}, metadata={"user": "u1"},
    )
    assert thread.id.startswith("thread_") and thread.object == "thread"
    assert thread.metadata == {"user": "u1"} and thread.tool_resources.code_interpreter.file_ids == [data]
    check_object(raw(server, key, "GET", f"/v1/threads/{thread.id}").json())
    assert oai.beta.threads.retrieve(thread.id).model_dump() == thread.model_dump()

    messages = oai.beta.threads.messages.list(thread.id, order="asc")
    assert [m.role for m in messages.data] == ["user", "assistant"]
    first, second = messages.data
    assert first.content[0].type == "text" and first.content[0].text.value == "Hello there"
    assert first.content[0].text.annotations == [] and first.thread_id == thread.id
    assert first.status == "completed" and first.assistant_id is None and first.run_id is None
    assert second.metadata == {"seeded": "yes"} and second.content[0].text.value == "Hi! How can I help?"
    for body in raw(server, key, "GET", f"/v1/threads/{thread.id}/messages").json()["data"]:
        check_object(body)

    modified = oai.beta.threads.update(thread.id, metadata={"user": "u2"})
    assert modified.metadata == {"user": "u2"} and modified.tool_resources.code_interpreter.file_ids == [data]
    assert oai.beta.threads.retrieve(thread.id).metadata == {"user": "u2"}

    deleted = oai.beta.threads.delete(thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (thread.id, "thread.deleted", True)
    with pytest.raises(openai.NotFoundError):
        oai.beta.threads.retrieve(thread.id)
    with pytest.raises(openai.NotFoundError):  # its messages went with it
        oai.beta.threads.messages.retrieve(first.id, thread_id=thread.id)
    with pytest.raises(openai.NotFoundError):
        oai.beta.threads.messages.list(thread.id)


def test_empty_thread(oai: openai.OpenAI, server: LiveServer, key: str) -> None:
    thread = oai.beta.threads.create()
    body = check_object(raw(server, key, "GET", f"/v1/threads/{thread.id}").json())
    assert body["tool_resources"] == {} and body["metadata"] == {}
    page = oai.beta.threads.messages.list(thread.id)
    assert page.data == [] and page.has_more is False and page.first_id is None


def test_message_create_retrieve_modify_delete(oai: openai.OpenAI, server: LiveServer, key: str) -> None:
    image = upload(oai, "cat.png", "not really a png")
    thread = oai.beta.threads.create()
    message = oai.beta.threads.messages.create(
        thread.id, role="user", metadata={"k": "v"},
        content=[{"type": "text", "text": "What is in these pictures?"},
                 {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}},
                 {"type": "image_file", "image_file": {"file_id": image}}],
    )
    assert message.id.startswith("msg_") and message.object == "thread.message" and message.thread_id == thread.id
    assert [c.type for c in message.content] == ["text", "image_url", "image_file"]
    assert message.content[1].image_url.url == PNG_URL and message.content[1].image_url.detail == "low"
    assert message.content[2].image_file.file_id == image
    assert message.metadata == {"k": "v"} and message.attachments == [] and message.status == "completed"
    check_object(raw(server, key, "GET", f"/v1/threads/{thread.id}/messages/{message.id}").json())
    assert oai.beta.threads.messages.retrieve(message.id, thread_id=thread.id).model_dump() == message.model_dump()

    updated = oai.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={"k": "w"})
    assert updated.metadata == {"k": "w"} and updated.content == message.content
    deleted = oai.beta.threads.messages.delete(message.id, thread_id=thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (message.id, "thread.message.deleted", True)
    with pytest.raises(openai.NotFoundError):
        oai.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
    assert oai.beta.threads.messages.list(thread.id).data == []


def test_message_pagination_both_ways(oai: openai.OpenAI) -> None:
    thread = oai.beta.threads.create()
    ids = [oai.beta.threads.messages.create(thread.id, role="user", content=f"m{i}").id for i in range(5)]
    newest = list(reversed(ids))
    page = oai.beta.threads.messages.list(thread.id, limit=2)
    assert [m.id for m in page.data] == newest[:2] and page.has_more is True
    assert (page.first_id, page.last_id) == (newest[0], newest[1])
    assert [m.id for m in oai.beta.threads.messages.list(thread.id, limit=2)] == newest  # auto-paging
    after = oai.beta.threads.messages.list(thread.id, limit=2, after=newest[1])
    assert [m.id for m in after.data] == newest[2:4] and after.has_more is True
    asc = oai.beta.threads.messages.list(thread.id, order="asc", after=ids[2])
    assert [m.id for m in asc.data] == ids[3:] and asc.has_more is False
    before = oai.beta.threads.messages.list(thread.id, order="asc", before=ids[3], limit=2)
    assert [m.id for m in before.data] == ids[1:3] and before.has_more is True
    before_desc = oai.beta.threads.messages.list(thread.id, before=ids[1])
    assert [m.id for m in before_desc.data] == newest[:3] and before_desc.has_more is False
    nearest = oai.beta.threads.messages.list(thread.id, before=ids[0], limit=2)
    assert [m.id for m in nearest.data] == [ids[2], ids[1]] and nearest.has_more is True
    assert [m.content[0].text.value for m in oai.beta.threads.messages.list(thread.id, order="asc")] == [
        f"m{i}" for i in range(5)]
    assert oai.beta.threads.messages.list(thread.id, run_id="run_none").data == []


def test_another_project_sees_nothing(oai: openai.OpenAI, other: openai.OpenAI) -> None:
    thread = oai.beta.threads.create(messages=[{"role": "user", "content": "secret"}])
    [message] = oai.beta.threads.messages.list(thread.id).data
    for call in (lambda: other.beta.threads.retrieve(thread.id),
                 lambda: other.beta.threads.update(thread.id, metadata={"a": "b"}),
                 lambda: other.beta.threads.messages.list(thread.id),
                 lambda: other.beta.threads.messages.create(thread.id, role="user", content="hi"),
                 lambda: other.beta.threads.messages.retrieve(message.id, thread_id=thread.id),
                 lambda: other.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={}),
                 lambda: other.beta.threads.messages.delete(message.id, thread_id=thread.id),
                 lambda: other.beta.threads.delete(thread.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    mine = oai.beta.threads.messages.list(thread.id).data
    assert [m.id for m in mine] == [message.id] and mine[0].content[0].text.value == "secret"
    # their own thread cannot name my message either
    theirs = other.beta.threads.create()
    with pytest.raises(openai.NotFoundError):
        other.beta.threads.messages.retrieve(message.id, thread_id=theirs.id)


def test_attachments_create_the_threads_vector_store(oai: openai.OpenAI, other: openai.OpenAI) -> None:
    notes = upload(oai, "notes.txt", "The launch window opens on the ninth of March.")
    more = upload(oai, "more.txt", "Fuel loading starts two days before launch.")
    code = upload(oai, "table.csv", "x,y\n1,2\n")
    thread = oai.beta.threads.create()
    message = oai.beta.threads.messages.create(
        thread.id, role="user", content="When is the launch?",
        attachments=[{"file_id": notes, "tools": [{"type": "file_search"}]},
                     {"file_id": code, "tools": [{"type": "code_interpreter"}]}],
    )
    assert [(a.file_id, [t.type for t in a.tools]) for a in message.attachments] == [
        (notes, ["file_search"]), (code, ["code_interpreter"])]
    resources = oai.beta.threads.retrieve(thread.id).tool_resources
    [store_id] = resources.file_search.vector_store_ids
    store = wait_store(oai, store_id)
    assert store.file_counts.completed == 1 and store.expires_after.days == 7
    assert [f.id for f in oai.vector_stores.files.list(store_id)] == [notes]
    # a second attachment goes into the same store
    oai.beta.threads.messages.create(thread.id, role="user", content="And fuel?",
                                     attachments=[{"file_id": more, "tools": [{"type": "file_search"}]}])
    assert oai.beta.threads.retrieve(thread.id).tool_resources.file_search.vector_store_ids == [store_id]
    wait_store(oai, store_id)
    assert sorted(f.id for f in oai.vector_stores.files.list(store_id)) == sorted([notes, more])
    assert oai.vector_stores.search(store_id, query="launch window").data[0].file_id in (notes, more)
    with pytest.raises(openai.NotFoundError):
        other.vector_stores.retrieve(store_id)


def test_thread_created_with_attachments(oai: openai.OpenAI) -> None:
    notes = upload(oai, "notes.txt", "Bring a red umbrella.")
    thread = oai.beta.threads.create(messages=[{"role": "user", "content": "Read this",
                                                "attachments": [{"file_id": notes,
                                                                 "tools": [{"type": "file_search"}]}]}])
    [store_id] = thread.tool_resources.file_search.vector_store_ids
    assert [f.id for f in oai.vector_stores.files.list(store_id)] == [notes]
    given = oai.vector_stores.create(name="mine")
    with_store = oai.beta.threads.create(tool_resources={"file_search": {"vector_store_ids": [given.id]}},
                                         messages=[{"role": "user", "content": "x", "attachments": [
                                             {"file_id": notes, "tools": [{"type": "file_search"}]}]}])
    assert with_store.tool_resources.file_search.vector_store_ids == [given.id]
    assert [f.id for f in oai.vector_stores.files.list(given.id)] == [notes]


def test_foreign_files_are_not_found(oai: openai.OpenAI, other: openai.OpenAI, server: LiveServer,
                                     key: str) -> None:
    theirs = upload(other, "theirs.txt", "not yours")
    thread = oai.beta.threads.create()
    error = error_of(raw(server, key, "POST", f"/v1/threads/{thread.id}/messages", json={
        "role": "user", "content": "x", "attachments": [{"file_id": theirs, "tools": [{"type": "file_search"}]}]}),
        404)
    assert error["param"] == "attachments[0].file_id"
    error = error_of(raw(server, key, "POST", f"/v1/threads/{thread.id}/messages", json={
        "role": "user", "content": [{"type": "image_file", "image_file": {"file_id": theirs}}]}), 404)
    assert error["param"] == "content[0].image_file.file_id"
    error = error_of(raw(server, key, "POST", "/v1/threads", json={
        "messages": [{"role": "user", "content": "x"},
                     {"role": "user", "content": "y", "attachments": [{"file_id": theirs, "tools": []}]}]}), 404)
    assert error["param"] == "messages[1].attachments[0].file_id"
    assert oai.beta.threads.retrieve(thread.id).tool_resources.file_search is None


@pytest.mark.parametrize(("body", "param"), [
    ({"content": "x"}, "role"),
    ({"role": "system", "content": "x"}, "role"),
    ({"role": "user"}, "content"),
    ({"role": "user", "content": []}, "content"),
    ({"role": "user", "content": 5}, "content"),
    ({"role": "user", "content": [{"type": "audio"}]}, "content[0].type"),
    ({"role": "user", "content": [{"type": "text"}]}, "content[0].text"),
    ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]},
     "content[0].image_url.url"),
    ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG_URL, "detail": "max"}}]},
     "content[0].image_url.detail"),
    ({"role": "user", "content": [{"type": "image_file", "image_file": {}}]}, "content[0].image_file.file_id"),
    ({"role": "user", "content": "x", "attachments": [{"file_id": "file-a"}]}, "attachments[0].tools"),
    ({"role": "user", "content": "x", "attachments": [{"file_id": "file-a", "tools": [{"type": "web"}]}]},
     "attachments[0].tools[0].type"),
    ({"role": "user", "content": "x", "metadata": {"k": "v" * 513}}, "metadata.k"),
    ({"role": "user", "content": "x", "extra": 1}, "extra"),
])
def test_bad_message_names_the_field(server: LiveServer, key: str, body: dict, param: str) -> None:
    thread = raw(server, key, "POST", "/v1/threads").json()
    error = error_of(raw(server, key, "POST", f"/v1/threads/{thread['id']}/messages", json=body), 400)
    assert error["param"] == param, error


@pytest.mark.parametrize(("body", "param"), [
    ({"messages": "hi"}, "messages"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "bot", "content": "y"}]}, "messages[1].role"),
    ({"tool_resources": {"file_search": {"vector_stores": [{"file_ids": [1]}]}}},
     "tool_resources.file_search.vector_stores[0].file_ids[0]"),
    ({"tool_resources": {"web": {}}}, "tool_resources.web"),
    ({"metadata": []}, "metadata"),
])
def test_bad_thread_names_the_field(server: LiveServer, key: str, body: dict, param: str) -> None:
    error = error_of(raw(server, key, "POST", "/v1/threads", json=body), 400)
    assert error["param"] == param, error


def test_modify_bodies_are_checked(server: LiveServer, key: str) -> None:
    thread = raw(server, key, "POST", "/v1/threads", json={"messages": [{"role": "user", "content": "x"}]}).json()
    message = raw(server, key, "GET", f"/v1/threads/{thread['id']}/messages").json()["data"][0]
    error = error_of(raw(server, key, "POST", f"/v1/threads/{thread['id']}", json={"messages": []}), 400)
    assert error["param"] == "messages"
    error = error_of(raw(server, key, "POST", f"/v1/threads/{thread['id']}/messages/{message['id']}",
                         json={"content": "y"}), 400)
    assert error["param"] == "content"
    assert error_of(raw(server, key, "GET", "/v1/threads/thread_nope"), 404)["param"] == "thread_id"
    assert error_of(raw(server, key, "GET", f"/v1/threads/{thread['id']}/messages/msg_nope"), 404)["param"] == (
        "message_id")
    listing = f"/v1/threads/{thread['id']}/messages"
    assert error_of(raw(server, key, "GET", listing + "?limit=500"), 400)["param"] == "limit"
    assert error_of(raw(server, key, "GET", listing + "?order=sideways"), 400)["param"] == "order"


def test_racing_attachments_share_one_thread_store(oai: openai.OpenAI) -> None:
    files = [upload(oai, f"n{i}.txt", f"Note number {i}.") for i in range(6)]
    thread = oai.beta.threads.create()

    def send(file_id: str) -> None:
        oai.beta.threads.messages.create(thread.id, role="user", content="x",
                                         attachments=[{"file_id": file_id, "tools": [{"type": "file_search"}]}])

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(send, files))
    [store_id] = oai.beta.threads.retrieve(thread.id).tool_resources.file_search.vector_store_ids
    assert sorted(f.id for f in oai.vector_stores.files.list(store_id)) == sorted(files)
    assert [s.id for s in oai.vector_stores.list()] == [store_id]  # the losers' stores are gone
