"""/v1/containers and their files through the OpenAI SDK (strict validation) against a live
server: create, list, retrieve, delete; files uploaded, copied from the Files API, written by
code, read back and deleted; another project's containers are not found; bad input is a 400
naming the field."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.conftest import upstream_models
from tests.e2e.test_no_server_errors import BODIES
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import project_key

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="scripts/install-sandbox.sh not run")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
         fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("containers"), upstream_models(fake_openai, fake_anthropic),
                        sandbox={"warm": 1})
    server.start(wait_ready=True)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                         _strict_response_validation=True)


def test_container_lifecycle(client: openai.OpenAI) -> None:
    made = client.containers.create(name="analysis", expires_after={"anchor": "last_active_at", "minutes": 5})
    assert made.id.startswith("cntr_") and made.object == "container" and made.status == "running"
    assert made.expires_after is not None and made.expires_after.minutes == 5
    assert made.name == "analysis" and made.memory_limit == "1g"
    again = client.containers.retrieve(made.id)
    assert (again.id, again.name, again.created_at) == (made.id, made.name, made.created_at)
    other = client.containers.create(name="second")
    listed = [c.id for c in client.containers.list()]
    assert listed[:2] == [other.id, made.id]  # newest first
    assert [c.id for c in client.containers.list(order="asc", after=made.id)][:1] == [other.id]
    assert [c.id for c in client.containers.list(name="analysis")] == [made.id]
    page = client.containers.list(limit=1)
    assert len(page.data) == 1 and page.has_more
    client.containers.delete(made.id)
    with pytest.raises(openai.NotFoundError):
        client.containers.retrieve(made.id)
    assert made.id not in [c.id for c in client.containers.list()]


def test_files_uploaded_copied_written_read_and_deleted(client: openai.OpenAI) -> None:
    stored = client.files.create(file=("numbers.csv", b"n\n1\n2\n3\n", "text/csv"), purpose="user_data")
    container = client.containers.create(name="files", file_ids=[stored.id])
    copied = client.containers.files.list(container.id).data
    assert [(f.path, f.source, f.bytes) for f in copied] == [("/mnt/data/numbers.csv", "user", 8)]
    uploaded = client.containers.files.create(container.id, file=("notes.txt", b"hello", "text/plain"))
    assert uploaded.object == "container.file" and uploaded.id.startswith("cfile_")
    assert (uploaded.path, uploaded.bytes, uploaded.container_id) == ("/mnt/data/notes.txt", 5, container.id)
    by_id = client.containers.files.create(container.id, file_id=stored.id)
    assert by_id.id == copied[0].id  # the same path: the same container file
    assert client.containers.files.retrieve(uploaded.id, container_id=container.id).path == "/mnt/data/notes.txt"
    content = client.containers.files.content.retrieve(uploaded.id, container_id=container.id)
    assert content.read() == b"hello"
    client.containers.files.delete(uploaded.id, container_id=container.id)
    with pytest.raises(openai.NotFoundError):
        client.containers.files.retrieve(uploaded.id, container_id=container.id)
    assert [f.path for f in client.containers.files.list(container.id)] == ["/mnt/data/numbers.csv"]


def test_another_projects_containers_are_not_found(client: openai.OpenAI, live: LiveServer) -> None:
    mine = client.containers.create(name="private")
    secret = client.containers.files.create(mine.id, file=("secret.txt", b"s3cret", "text/plain"))
    other = openai.OpenAI(base_url=live.url + "/v1", api_key=project_key(live.url, "containers-other"),
                          max_retries=0)
    for attempt in (lambda: other.containers.retrieve(mine.id),
                    lambda: other.containers.delete(mine.id),
                    lambda: other.containers.files.list(mine.id),
                    lambda: other.containers.files.create(mine.id, file=("x.txt", b"x", "text/plain")),
                    lambda: other.containers.files.content.retrieve(secret.id, container_id=mine.id)):
        with pytest.raises(openai.NotFoundError):
            attempt()
    assert mine.id not in [c.id for c in other.containers.list()]
    assert client.containers.retrieve(mine.id).id == mine.id


@pytest.mark.parametrize(("body", "param"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x", "expires_after": {"anchor": "created_at", "minutes": 5}}, "expires_after.anchor"),
    ({"name": "x", "expires_after": {"anchor": "last_active_at", "minutes": 0}}, "expires_after.minutes"),
    ({"name": "x", "file_ids": ["file-missing"]}, "file_ids[0]"),
    ({"name": "x", "memory_limit": "2g"}, "memory_limit"),
    ({"name": "x", "network_policy": {"type": "allowlist", "allowed_domains": ["pypi.org"]}}, "network_policy"),
])
def test_bad_input_names_the_field(live: LiveServer, body: dict[str, object], param: str) -> None:
    response = httpx.post(live.url + "/v1/containers", json=body, headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["param"] == param


def test_a_file_needs_a_file_or_a_file_id(client: openai.OpenAI, live: LiveServer) -> None:
    container = client.containers.create(name="empty")
    response = httpx.post(f"{live.url}/v1/containers/{container.id}/files", json={},
                          headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "file_id"
    missing = httpx.post(f"{live.url}/v1/containers/{container.id}/files", json={"file_id": "file-nope"},
                         headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "file_id"


def test_malformed_bodies_never_get_a_server_error(client: openai.OpenAI, live: LiveServer) -> None:
    container = client.containers.create(name="target")
    headers = {"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json"}
    for path in ("/v1/containers", f"/v1/containers/{container.id}/files", "/v1/containers/cntr_missing/files"):
        for body in BODIES:
            response = httpx.post(live.url + path, content=body, headers=headers, timeout=30)
            assert 400 <= response.status_code < 500 or response.status_code == 200, (path, body, response.text)
            if response.status_code >= 400:
                assert "error" in response.json(), (path, body, response.text)
    multipart = httpx.post(f"{live.url}/v1/containers/{container.id}/files", headers={
        "authorization": f"Bearer {MASTER_KEY}", "content-type": "multipart/form-data; boundary=x"},
        content=b"--x\r\nbroken")
    assert multipart.status_code == 400, multipart.text
