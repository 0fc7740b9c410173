"""Two Switchyard processes on one PostgreSQL database and one ``files_dir``, each with a
data_dir of its own: a file's bytes written through one are served by the other (Files,
vector stores, batch output files, image links), and bytes missing from the directory
are a 404 naming the file, never a 500."""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from tests.e2e.batch_support import CHAT, EMBED, chat_line, echo_models, file_lines, upload, wait_batch
from tests.fakes import media_wire as mw
from tests.fakes.echo_upstream import EchoUpstream
from tests.fakes.upstream import FakeUpstream
from tests.pg import fresh_postgres_url
from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.postgres

IMAGE = "gpt-image-fake"
RED, BLUE = mw.png(rgb=(255, 0, 0)), mw.png(rgb=(0, 0, 255))


def _models(echo: EchoUpstream, images: FakeUpstream) -> list[dict[str, object]]:
    image = {"name": IMAGE, "provider": "openai", "task": "image", "model": "gpt-image-1",
             "base_url": images.url + "/v1", "api_key": "upstream-key", "timeout": 5}
    return [m for m in echo_models(echo) if m["provider"] != "local"] + [image]


class Pair:
    def __init__(self, a: LiveServer, b: LiveServer, files_dir: Path) -> None:
        self.a, self.b, self.files_dir = a, b, files_dir

    def blobs(self) -> set[Path]:
        return {p for p in self.files_dir.rglob("*") if p.is_file() and p.relative_to(self.files_dir).parts[0] != "tmp"}


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoUpstream]:
    upstream = EchoUpstream()
    upstream.start()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream,
               fake_openai: FakeUpstream) -> AsyncIterator[Pair]:
    files_dir = tmp_path_factory.mktemp("shared-files")
    shared = {"files_dir": str(files_dir), "secret_key": secrets.token_urlsafe(32),
              "vector_store_embedding_model": EMBED, "batches": {"lease_seconds": 3}}
    async with fresh_postgres_url() as url:
        servers = [LiveServer(tmp_path_factory.mktemp(name), _models(echo, fake_openai), database_url=url, **shared)
                   for name in ("process-a", "process-b")]
        try:
            for server in servers:
                server.start(wait_ready=True, timeout=180)
            assert not (servers[0].workdir / "data" / "files").exists()  # nothing under a data_dir of its own
            yield Pair(servers[0], servers[1], files_dir)
        finally:
            for server in servers:
                server.stop()


def _client(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                         _strict_response_validation=True)


def test_a_file_uploaded_through_one_process_is_read_and_indexed_by_the_other(pair: Pair) -> None:
    a, b = _client(pair.a), _client(pair.b)
    data = ("Tides rise twice a day as the moon pulls the oceans. " * 200).encode()
    before = pair.blobs()
    created = a.files.create(file=("tides.txt", io.BytesIO(data)), purpose="assistants")
    assert len(pair.blobs() - before) == 1  # the bytes landed in the shared directory
    assert b.files.retrieve(created.id).bytes == len(data)
    assert b.files.content(created.id).content == data

    store = b.vector_stores.create(name="shared")
    attached = b.vector_stores.files.create_and_poll(file_id=created.id, vector_store_id=store.id)
    assert attached.status == "completed", attached.last_error
    chunks = b.vector_stores.files.content(created.id, vector_store_id=store.id)
    assert "moon pulls the oceans" in "".join(part.text or "" for part in chunks)
    assert a.vector_stores.files.retrieve(created.id, vector_store_id=store.id).status == "completed"


def test_an_upload_with_parts_sent_to_both_processes_completes_on_either(pair: Pair) -> None:
    a, b = _client(pair.a), _client(pair.b)
    halves = [secrets.token_bytes(3000), secrets.token_bytes(2000)]
    started = a.uploads.create(filename="halves.bin", purpose="assistants", bytes=5000,
                               mime_type="application/octet-stream")
    first = a.uploads.parts.create(started.id, data=halves[0])
    second = b.uploads.parts.create(started.id, data=halves[1])
    done = b.uploads.complete(started.id, part_ids=[first.id, second.id])
    assert done.status == "completed" and done.file is not None
    assert a.files.content(done.file.id).content == halves[0] + halves[1]


def test_a_batch_output_file_is_readable_through_both_processes(pair: Pair) -> None:
    a, b = _client(pair.a), _client(pair.b)
    input_id = upload(a, [chat_line(f"r{n}", f"hello {n}", model=CHAT) for n in range(4)])
    batch = b.batches.create(input_file_id=input_id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait_batch(a, batch.id, {"completed", "failed"}, timeout=120)
    assert done.status == "completed", done.errors
    # Whichever process wrote the output file, the other reads it too.
    for client in (a, b):
        lines = sorted(file_lines(client, done.output_file_id), key=lambda line: line["custom_id"])
        assert [line["custom_id"] for line in lines] == ["r0", "r1", "r2", "r3"]
        assert [line["response"]["body"]["choices"][0]["message"]["content"] for line in lines] == \
            [f"echo:hello {n}" for n in range(4)]


def test_an_image_link_made_by_one_process_is_served_by_the_other(pair: Pair, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_b64(RED))
    reply = _client(pair.a).images.generate(model=IMAGE, prompt="a red square", response_format="url")
    url = reply.data[0].url
    assert url is not None and url.startswith(pair.a.url + "/v1/images/files/img_")
    parts = urlsplit(url)
    served = httpx.get(f"{pair.b.url}{parts.path}?{parts.query}", timeout=30)
    assert served.status_code == 200, served.text
    assert served.content == RED and served.headers["content-type"] == "image/png"


def test_an_edit_keeps_its_uploads_in_its_own_data_dir_only_for_the_request(pair: Pair,
                                                                           fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_b64(RED))
    before = pair.blobs()
    reply = _client(pair.a).images.edit(model=IMAGE, image=("blue.png", io.BytesIO(BLUE), "image/png"),
                                        prompt="make it red")
    assert base64.b64decode(reply.data[0].b64_json or "") == RED
    assert fake_openai.last.body["image"]["content"] == BLUE  # the upload reached the upstream whole
    assert pair.blobs() == before  # nothing of a one-request upload in the shared directory
    uploads = pair.a.workdir / "data" / "image-uploads"
    assert uploads.is_dir() and not [p for p in uploads.rglob("*") if p.is_file()]


def test_bytes_missing_from_the_directory_are_a_404_naming_the_file(pair: Pair) -> None:
    a, b = _client(pair.a), _client(pair.b)
    before = pair.blobs()
    created = a.files.create(file=("gone.txt", io.BytesIO(b"soon gone")), purpose="assistants")
    (blob,) = pair.blobs() - before
    blob.unlink()
    with pytest.raises(openai.NotFoundError) as missing:
        b.files.content(created.id)
    error = missing.value.body
    assert isinstance(error, dict) and error["code"] == "file_content_missing", error
    assert created.id in error["message"] and "missing from storage" in error["message"]
    assert b.files.retrieve(created.id).filename == "gone.txt"  # the record itself is still there

    store = b.vector_stores.create(name="missing")
    failed = b.vector_stores.files.create_and_poll(file_id=created.id, vector_store_id=store.id)
    assert failed.status == "failed" and failed.last_error is not None
    assert created.id in failed.last_error.message


def test_an_upload_part_missing_from_the_directory_is_a_404_naming_the_part(pair: Pair) -> None:
    a, b = _client(pair.a), _client(pair.b)
    started = a.uploads.create(filename="parts.txt", purpose="assistants", bytes=6, mime_type="text/plain")
    before = pair.blobs()
    first = a.uploads.parts.create(started.id, data=b"abc")
    (blob,) = pair.blobs() - before
    second = b.uploads.parts.create(started.id, data=b"def")
    blob.unlink()
    with pytest.raises(openai.NotFoundError) as missing:
        b.uploads.complete(started.id, part_ids=[first.id, second.id])
    error = missing.value.body
    assert isinstance(error, dict) and error["param"] == "part_ids[0]", error
    assert first.id in error["message"]
