"""Every stored object belongs to a project: another project's key gets 404 on it,
never sees it in a list, and cannot change or delete it."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.admin.conftest import Tenant
from tests.conftest import LOCAL_EMBEDDING, VIA_OPENAI
from tests.fakes import openai_wire as ow
from tests.server import LiveServer, sdk


def _gone(*calls: object) -> None:
    """Each call (a zero-argument callable) raises 404 in OpenAI's shape."""
    for call in calls:
        with pytest.raises(openai.NotFoundError) as caught:
            call()  # type: ignore[operator]
        body = caught.value.body
        assert isinstance(body, dict) and body["message"] and body["type"] in (
            "not_found_error", "invalid_request_error"), body


def test_responses_belong_to_their_project(alice: Tenant, bob: Tenant, fake_openai) -> None:
    fake_openai.script(ow.completion("alice's secret"))
    mine = alice.client.responses.create(model=VIA_OPENAI, input="remember the code 4711")
    assert mine.output_text == "alice's secret"
    _gone(lambda: bob.client.responses.retrieve(mine.id),
          lambda: bob.client.responses.input_items.list(mine.id),
          lambda: bob.client.responses.cancel(mine.id),
          lambda: bob.client.responses.delete(mine.id))
    fake_openai.script(ow.completion("unused"))
    with pytest.raises(openai.BadRequestError) as caught:
        bob.client.responses.create(model=VIA_OPENAI, input="and?", previous_response_id=mine.id)
    assert caught.value.body["param"] == "previous_response_id"
    assert alice.client.responses.retrieve(mine.id).output_text == "alice's secret"
    alice.client.responses.delete(mine.id)


def test_conversations_belong_to_their_project(alice: Tenant, bob: Tenant) -> None:
    conversation = alice.client.conversations.create(
        metadata={"who": "alice"}, items=[{"type": "message", "role": "user", "content": "private"}])
    item = alice.client.conversations.items.list(conversation.id).data[0]
    _gone(lambda: bob.client.conversations.retrieve(conversation.id),
          lambda: bob.client.conversations.update(conversation.id, metadata={"who": "bob"}),
          lambda: bob.client.conversations.items.list(conversation.id),
          lambda: bob.client.conversations.items.retrieve(item.id, conversation_id=conversation.id),
          lambda: bob.client.conversations.items.create(
              conversation.id, items=[{"type": "message", "role": "user", "content": "inject"}]),
          lambda: bob.client.conversations.items.delete(item.id, conversation_id=conversation.id),
          lambda: bob.client.conversations.delete(conversation.id))
    assert alice.client.conversations.retrieve(conversation.id).metadata == {"who": "alice"}
    assert len(alice.client.conversations.items.list(conversation.id).data) == 1


def test_files_and_uploads_belong_to_their_project(alice: Tenant, bob: Tenant) -> None:
    file = alice.client.files.create(file=("notes.txt", b"alice only", "text/plain"), purpose="assistants")
    _gone(lambda: bob.client.files.retrieve(file.id),
          lambda: bob.client.files.content(file.id),
          lambda: bob.client.files.delete(file.id))
    assert file.id not in [f.id for f in bob.client.files.list()]
    assert file.id in [f.id for f in alice.client.files.list()]
    assert alice.client.files.content(file.id).read() == b"alice only"

    upload = alice.client.uploads.create(bytes=5, filename="u.txt", mime_type="text/plain", purpose="assistants")
    _gone(lambda: bob.client.uploads.parts.create(upload_id=upload.id, data=b"12345"),
          lambda: bob.client.uploads.complete(upload_id=upload.id, part_ids=[]),
          lambda: bob.client.uploads.cancel(upload.id))
    part = alice.client.uploads.parts.create(upload_id=upload.id, data=b"12345")
    done = alice.client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    assert done.status == "completed" and done.file is not None
    _gone(lambda: bob.client.files.retrieve(done.file.id))  # type: ignore[union-attr]


def test_vector_stores_belong_to_their_project(alice: Tenant, bob: Tenant) -> None:
    file = alice.client.files.create(file=("lava.txt", b"Mount Erebus has a lava lake.", "text/plain"),
                                     purpose="assistants")
    store = alice.client.vector_stores.create(name="alice's store", file_ids=[file.id])
    _gone(lambda: bob.client.vector_stores.retrieve(store.id),
          lambda: bob.client.vector_stores.update(store.id, name="bob's now"),
          lambda: bob.client.vector_stores.search(store.id, query="lava"),
          lambda: bob.client.vector_stores.files.list(store.id),
          lambda: bob.client.vector_stores.files.retrieve(file.id, vector_store_id=store.id),
          lambda: bob.client.vector_stores.files.delete(file.id, vector_store_id=store.id),
          lambda: bob.client.vector_stores.file_batches.create(store.id, file_ids=[file.id]),
          lambda: bob.client.vector_stores.delete(store.id))
    assert store.id not in [s.id for s in bob.client.vector_stores.list()]
    # bob cannot attach alice's file to a store of his own either
    with pytest.raises(openai.NotFoundError):
        bob.client.vector_stores.create(name="bob's", file_ids=[file.id])
    assert alice.client.vector_stores.retrieve(store.id).name == "alice's store"
    assert store.id in [s.id for s in alice.client.vector_stores.list()]


def test_the_master_key_acts_in_the_project_named_by_openai_project(org_server: LiveServer, alice: Tenant) -> None:
    conversation = alice.client.conversations.create(metadata={"who": "alice"})
    as_owner_in_alice = sdk(org_server, project=alice.project_id)
    assert as_owner_in_alice.conversations.retrieve(conversation.id).metadata == {"who": "alice"}
    _gone(lambda: sdk(org_server).conversations.retrieve(conversation.id))  # the default project
    theirs = sdk(org_server).conversations.create(metadata={"who": "owner"})
    _gone(lambda: alice.client.conversations.retrieve(theirs.id))

    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(org_server, project="proj_nope").conversations.retrieve(conversation.id)
    assert caught.value.body["code"] == "invalid_project"
    # a project key may name its own project, not another
    assert sdk(org_server, alice.secret, project=alice.project_id).conversations.retrieve(conversation.id)
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(org_server, alice.secret, project="proj_default").conversations.retrieve(conversation.id)
    assert caught.value.body["code"] == "mismatched_project"


def test_embeddings_work_with_a_project_key(alice: Tenant) -> None:
    result = alice.client.embeddings.create(model=LOCAL_EMBEDDING, input="hello", encoding_format="float")
    assert len(result.data[0].embedding) == 384


def test_raw_websocket_free_paths_still_need_a_key(org_server: LiveServer) -> None:
    response = httpx.get(org_server.url + "/v1/organization/projects")
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_api_key"
