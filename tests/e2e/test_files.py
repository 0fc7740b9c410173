"""The Files and Uploads APIs through the official SDK, against a live server."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.server import MASTER_KEY
from tests.server import LiveServer as Server  # once app.py serves /v1/files: tests.server.LiveServer
from tests.spec import validate_openai
from tests.tenants import project_key

UNUSED_MODEL = [{"name": "unused", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "x"}]
TINY_LIMIT = 1024


def _start(tmp_path_factory: pytest.TempPathFactory, name: str, **settings: Any) -> Server:
    live = Server(tmp_path_factory.mktemp(name), UNUSED_MODEL, **settings)
    live.start()
    return live


@pytest.fixture(scope="module")
def files_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    live = _start(tmp_path_factory, "files")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    live = _start(tmp_path_factory, "files_tiny", max_upload_bytes=TINY_LIMIT)
    yield live
    live.stop()


def _client(server: Server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True)


@pytest.fixture
def owner_key(files_server: Server, request: pytest.FixtureRequest) -> str:
    """A key of a project of its own, so each test sees only its files."""
    return project_key(files_server.url, request.node.name[:200])


@pytest.fixture
def client(files_server: Server, owner_key: str) -> openai.OpenAI:
    return _client(files_server, owner_key)


def _raw(server: Server, method: str, path: str, key: str = MASTER_KEY, headers: dict[str, str] | None = None,
         **kwargs: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"authorization": f"Bearer {key}", **(headers or {})},
                         timeout=60, **kwargs)


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def _blobs(server: Server) -> list[Path]:
    root = server.workdir / "data" / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# -- files -------------------------------------------------------------------


def test_create_retrieve_and_content_round_trip(client: openai.OpenAI) -> None:
    raw = client.files.with_raw_response.create(file=("a.txt", b"hello files"), purpose="assistants")
    body = raw.http_response.json()
    validate_openai(body, "OpenAIFile")
    created = raw.parse()
    assert created.id.startswith("file-") and created.object == "file"
    assert (created.bytes, created.filename, created.purpose, created.status) == (11, "a.txt", "assistants",
                                                                                   "processed")
    assert created.expires_at is None
    assert client.files.retrieve(created.id) == created
    content = client.files.content(created.id)
    assert content.read() == b"hello files"
    assert content.response.headers["content-type"].startswith("text/plain")


def test_binary_content_round_trip(client: openai.OpenAI) -> None:
    data = bytes(range(256)) * 2000 + os.urandom(100_003)
    created = client.files.create(file=("blob.bin", data, "application/x-thing"), purpose="user_data")
    assert created.bytes == len(data)
    content = client.files.content(created.id)
    assert hashlib.sha256(content.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert content.response.headers["content-type"] == "application/x-thing"
    assert content.response.headers["x-content-type-options"] == "nosniff"


def test_list_with_purpose_limit_order_and_after(client: openai.OpenAI) -> None:
    made = [client.files.create(file=(f"{n}.jsonl", b"{}\n"), purpose="batch" if n < 3 else "vision")
            for n in range(4)]
    batch_ids = [f.id for f in made[:3]]
    raw = client.files.with_raw_response.list()
    validate_openai(raw.http_response.json(), "ListFilesResponse")
    assert [f.id for f in raw.parse().data] == [f.id for f in made][::-1]
    assert [f.id for f in client.files.list(purpose="batch", order="asc").data] == batch_ids
    page = client.files.list(purpose="batch", order="asc", limit=2)
    assert [f.id for f in page.data] == batch_ids[:2] and page.has_more
    assert [f.id for f in page.get_next_page().data] == batch_ids[2:]
    assert [f.id for f in client.files.list(order="desc", after=made[1].id).data] == [made[0].id]
    assert [f.id for f in client.files.list(purpose="batch", order="asc", limit=1)] == batch_ids  # auto-paging
    assert client.files.list(purpose="fine-tune").data == []


@pytest.mark.parametrize(("query", "param"), [("limit=0", "limit"), ("limit=10001", "limit"),
                                               ("order=sideways", "order")])
def test_list_bad_params(files_server: Server, query: str, param: str) -> None:
    assert _error(_raw(files_server, "GET", f"/v1/files?{query}"), 400)["param"] == param


def test_delete_then_not_found(client: openai.OpenAI) -> None:
    created = client.files.create(file=("gone.txt", b"bye"), purpose="assistants")
    raw = client.files.with_raw_response.delete(created.id)
    validate_openai(raw.http_response.json(), "DeleteFileResponse")
    deleted = raw.parse()
    assert (deleted.id, deleted.deleted, deleted.object) == (created.id, True, "file")
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(created.id)
    with pytest.raises(openai.NotFoundError):
        client.files.delete(created.id)
    assert created.id not in [f.id for f in client.files.list().data]


def test_expires_after_and_batch_default(client: openai.OpenAI) -> None:
    made = client.files.create(file=("e.txt", b"x"), purpose="assistants",
                               expires_after={"anchor": "created_at", "seconds": 3600})
    assert made.expires_at == made.created_at + 3600
    batch = client.files.create(file=("b.jsonl", b"{}"), purpose="batch")
    assert batch.expires_at == batch.created_at + 30 * 24 * 3600
    assert client.files.retrieve(made.id).expires_at == made.expires_at


def test_another_owners_file_is_not_found(files_server: Server, client: openai.OpenAI) -> None:
    mine = client.files.create(file=("secret.txt", b"mine"), purpose="assistants")
    master = _client(files_server, MASTER_KEY)
    with pytest.raises(openai.NotFoundError):
        master.files.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        master.files.content(mine.id)
    with pytest.raises(openai.NotFoundError):
        master.files.delete(mine.id)
    assert mine.id not in [f.id for f in master.files.list().data]
    assert client.files.content(mine.id).read() == b"mine"


def test_over_the_limit_is_413_and_leaves_nothing(tiny_server: Server) -> None:
    tiny = _client(tiny_server, MASTER_KEY)
    with pytest.raises(openai.APIStatusError) as caught:
        tiny.files.create(file=("big.bin", b"x" * (TINY_LIMIT + 1)), purpose="assistants")
    assert caught.value.status_code == 413
    assert caught.value.body["param"] == "file" and str(TINY_LIMIT) in caught.value.message  # type: ignore[index]
    big = _raw(tiny_server, "POST", "/v1/files", data={"purpose": "assistants"},
               files={"file": ("big.bin", b"y" * (4 * 1024 * 1024))})  # rejected from its Content-Length
    assert _error(big, 413)["param"] == "file"
    assert _blobs(tiny_server) == []
    assert tiny.files.create(file=("ok.bin", b"x" * TINY_LIMIT), purpose="assistants").bytes == TINY_LIMIT


@pytest.mark.parametrize(("data", "param"), [
    ({}, "purpose"),
    ({"purpose": "nope"}, "purpose"),
    ({"purpose": "assistants", "expires_after[anchor]": "created_at", "expires_after[seconds]": "60"},
     "expires_after.seconds"),
    ({"purpose": "assistants", "expires_after[anchor]": "last_active_at", "expires_after[seconds]": "3600"},
     "expires_after.anchor"),
    ({"purpose": "assistants", "colour": "blue"}, "colour"),
])
def test_bad_form_fields_are_named(files_server: Server, data: dict[str, str], param: str) -> None:
    before = _blobs(files_server)
    response = _raw(files_server, "POST", "/v1/files", data=data, files={"file": ("a.txt", b"abc")})
    error = _error(response, 400)
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert param.split(".")[0] in error["message"]
    assert _blobs(files_server) == before


def test_missing_file_and_non_multipart(files_server: Server) -> None:
    assert _error(_raw(files_server, "POST", "/v1/files", data={"purpose": "assistants"},
                       files={"other": ("a", b"")}), 400)["param"] == "other"
    missing = _raw(files_server, "POST", "/v1/files", files={"purpose": (None, b"assistants")})
    assert _error(missing, 400)["param"] == "file"
    assert _error(_raw(files_server, "POST", "/v1/files", json={"purpose": "assistants"}), 400)["message"]


def test_fields_after_the_file_and_evals_purpose(files_server: Server) -> None:
    boundary = "sy-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.jsonl\"\r\n"
            f"Content-Type: application/jsonl\r\n\r\n{{\"a\": 1}}\n\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nevals\r\n"
            f"--{boundary}--\r\n").encode()
    response = _raw(files_server, "POST", "/v1/files", content=body,
                    headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 200, response.text
    assert (response.json()["purpose"], response.json()["bytes"], response.json()["filename"]) == (
        "evals", 9, "e.jsonl")


def test_truncated_multipart_is_400(files_server: Server) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="t"\r\n\r\nabc'
    response = _raw(files_server, "POST", "/v1/files", content=body,
                    headers={"content-type": "multipart/form-data; boundary=b"})
    assert "closing boundary" in _error(response, 400)["message"]


def test_file_name_is_a_label_not_a_path(files_server: Server, client: openai.OpenAI) -> None:
    name = "../../../../etc/passwd"
    created = client.files.create(file=(name, b"not a password"), purpose="assistants")
    assert created.filename == name
    content = client.files.content(created.id)
    assert content.read() == b"not a password"
    assert all(p.is_relative_to(files_server.workdir / "data" / "files") for p in _blobs(files_server))
    assert "attachment" in content.response.headers["content-disposition"]


def test_unauthenticated_is_401(files_server: Server) -> None:
    assert httpx.get(files_server.url + "/v1/files").status_code == 401


# -- uploads -----------------------------------------------------------------


def test_upload_in_three_parts_by_hand(client: openai.OpenAI) -> None:
    chunks = [os.urandom(1000), os.urandom(2000), os.urandom(500)]
    total = sum(map(len, chunks))
    raw = client.uploads.with_raw_response.create(bytes=total, filename="big.bin", mime_type="application/x-big",
                                                  purpose="assistants")
    validate_openai(raw.http_response.json(), "Upload")
    upload = raw.parse()
    assert (upload.status, upload.bytes, upload.file) == ("pending", total, None)
    assert upload.expires_at == upload.created_at + 3600
    part_ids = []
    for chunk in chunks:
        raw_part = client.uploads.parts.with_raw_response.create(upload_id=upload.id, data=chunk)
        validate_openai(raw_part.http_response.json(), "UploadPart")
        part = raw_part.parse()
        assert part.id.startswith("part_") and part.upload_id == upload.id and part.object == "upload.part"
        part_ids.append(part.id)
    order = [2, 0, 1]  # the order given on completion is the order of the bytes
    expected = b"".join(chunks[i] for i in order)
    raw_done = client.uploads.with_raw_response.complete(upload_id=upload.id, part_ids=[part_ids[i] for i in order],
                                                         md5=hashlib.md5(expected).hexdigest())
    validate_openai(raw_done.http_response.json(), "Upload")
    done = raw_done.parse()
    assert done.status == "completed" and done.file is not None
    assert (done.file.bytes, done.file.filename, done.file.purpose) == (total, "big.bin", "assistants")
    assert client.files.content(done.file.id).read() == expected
    assert client.files.retrieve(done.file.id) == done.file
    with pytest.raises(openai.BadRequestError):
        client.uploads.complete(upload_id=upload.id, part_ids=part_ids)


def test_upload_file_chunked(client: openai.OpenAI) -> None:
    data = os.urandom(10_000)
    done = client.uploads.upload_file_chunked(file=data, filename="c.bin", bytes=len(data), part_size=4_000,
                                              mime_type="application/octet-stream", purpose="user_data")
    assert done.status == "completed" and done.file is not None
    assert client.files.content(done.file.id).read() == data


def test_complete_with_wrong_total_or_md5_is_400(client: openai.OpenAI) -> None:
    upload = client.uploads.create(bytes=10, filename="w.bin", mime_type="text/plain", purpose="assistants")
    part = client.uploads.parts.create(upload_id=upload.id, data=b"12345")
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    assert caught.value.body["param"] == "part_ids" and "10" in caught.value.message  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload_id=upload.id, part_ids=["part_nope"])
    assert caught.value.body["param"] == "part_ids[0]"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as caught:  # more than declared
        client.uploads.parts.create(upload_id=upload.id, data=b"123456")
    second = client.uploads.parts.create(upload_id=upload.id, data=b"67890")
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.complete(upload_id=upload.id, part_ids=[part.id, second.id], md5="0" * 32)
    assert caught.value.body["param"] == "md5"  # type: ignore[index]
    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id, second.id])
    assert done.file is not None and client.files.content(done.file.id).read() == b"1234567890"


def test_cancel_upload(files_server: Server, client: openai.OpenAI) -> None:
    upload = client.uploads.create(bytes=10, filename="c.bin", mime_type="text/plain", purpose="batch")
    client.uploads.parts.create(upload_id=upload.id, data=b"12345")
    before = len(_blobs(files_server))
    raw = client.uploads.with_raw_response.cancel(upload.id)
    validate_openai(raw.http_response.json(), "Upload")
    cancelled = raw.parse()
    assert (cancelled.id, cancelled.status, cancelled.file) == (upload.id, "cancelled", None)
    assert len(_blobs(files_server)) == before - 1
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload_id=upload.id, data=b"67890")
    with pytest.raises(openai.BadRequestError):
        client.uploads.cancel(upload.id)


def test_another_owners_upload_is_not_found(files_server: Server, client: openai.OpenAI) -> None:
    upload = client.uploads.create(bytes=3, filename="o.bin", mime_type="text/plain", purpose="assistants")
    part = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    master = _client(files_server, MASTER_KEY)
    with pytest.raises(openai.NotFoundError):
        master.uploads.parts.create(upload_id=upload.id, data=b"abc")
    with pytest.raises(openai.NotFoundError):
        master.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    with pytest.raises(openai.NotFoundError):
        master.uploads.cancel(upload.id)
    assert client.uploads.complete(upload_id=upload.id, part_ids=[part.id]).status == "completed"


@pytest.mark.parametrize(("body", "param"), [
    ({"filename": "a", "purpose": "nope", "bytes": 1, "mime_type": "text/plain"}, "purpose"),
    ({"filename": "a", "purpose": "batch", "bytes": -1, "mime_type": "text/plain"}, "bytes"),
    ({"purpose": "batch", "bytes": 1, "mime_type": "text/plain"}, "filename"),
    ({"filename": "a", "purpose": "batch", "bytes": 1}, "mime_type"),
    ({"filename": "a", "purpose": "batch", "bytes": 1, "mime_type": "text/plain",
      "expires_after": {"anchor": "created_at", "seconds": 10**9}}, "expires_after.seconds"),
])
def test_create_upload_bad_fields(files_server: Server, body: dict[str, Any], param: str) -> None:
    assert _error(_raw(files_server, "POST", "/v1/uploads", json=body), 400)["param"] == param


def test_upload_over_the_total_limit_is_413(files_server: Server) -> None:
    body = {"filename": "a", "purpose": "batch", "bytes": 9 * 1024**3, "mime_type": "text/plain"}
    assert _error(_raw(files_server, "POST", "/v1/uploads", json=body), 413)["param"] == "bytes"
