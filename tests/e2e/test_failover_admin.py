"""Deployments declared as a LiteLLM ``model_list`` (keys from the environment) and
managed through ``/v1/organization/deployments``: admin only, credentials sealed
at rest and never shown, changes live without a restart — in the process that made
them and in another process sharing the database."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from switchyard.store import ApiKeyRepository, Database
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer, sdk
from tests.tenants import deployments_call

ENV_KEY = "sk-from-env-5678"
SECRET = "sk-secret-abcdefgh1234"
SHARED_SECRET_KEY = "test-secret-key-shared-by-both-processes"
USER = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream("admin-fake")
    upstream.start()
    yield upstream
    upstream.stop()


@pytest.fixture(autouse=True)
def _reset(fake: FakeUpstream) -> None:
    fake.reset()


def _settings(fake: FakeUpstream, db_path: Path) -> dict[str, Any]:
    return {
        "model_list": [{"model_name": "listed", "litellm_params": {
            "model": "openai/gpt-listed", "api_base": fake.url + "/v1", "api_key": "os.environ/FO_UPSTREAM_KEY",
            "rpm": 100}, "model_info": {"id": "listed-main"}}],
        "router_settings": {"num_retries": 1, "cooldown_time": 5},
        "routing": {"refresh_seconds": 0.2},
        "database_url": f"sqlite+aiosqlite:///{db_path}",
        "secret_key": SHARED_SECRET_KEY,
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake: FakeUpstream) -> Iterator[LiveServer]:
    workdir = Path(tmp_path_factory.mktemp("deployments"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FO_UPSTREAM_KEY", ENV_KEY)
        server = LiveServer(workdir, [], **_settings(fake, workdir / "shared.db"))
        server.start()
    yield server
    server.stop()


@pytest.fixture
def oai(live: LiveServer) -> openai.OpenAI:
    return sdk(live)


def _admin(live: LiveServer, method: str, path: str = "", body: Any = None, key: str = MASTER_KEY) -> httpx.Response:
    return deployments_call(live.url, method, path, body, key)


def _create(live: LiveServer, fake: FakeUpstream, **fields: Any) -> dict[str, Any]:
    body = {"model": "api-only", "provider": "openai", "upstream_model": "gpt-remote",
            "base_url": fake.url + "/v1", "api_key": SECRET, **fields}
    answer = _admin(live, "POST", body=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_model_list_from_yaml_uses_the_key_from_the_environment(live, oai, fake) -> None:
    fake.script(ow.completion("listed answer"))
    reply = oai.chat.completions.create(model="listed", messages=USER)
    assert reply.choices[0].message.content == "listed answer"
    assert fake.last.headers["authorization"] == f"Bearer {ENV_KEY}"
    assert fake.last.body["model"] == "gpt-listed"
    shown = _admin(live, "GET", "/listed-main")
    assert shown.status_code == 200
    body = shown.json()
    assert (body["source"], body["rpm"], body["redacted_api_key"]) == ("config", 100, "sk-...5678")
    assert ENV_KEY not in shown.text


def test_deployment_added_by_api_serves_at_once_and_hides_its_key(live, oai, fake) -> None:
    created = _create(live, fake)
    assert created["object"] == "organization.deployment" and created["id"].startswith("dep_")
    assert created["redacted_api_key"] == "sk-...1234" and SECRET not in str(created)
    assert (created["model"], created["upstream_model"], created["source"]) == ("api-only", "gpt-remote", "api")

    fake.script(ow.completion("served by the new deployment"))
    reply = oai.chat.completions.create(model="api-only", messages=USER)
    assert reply.choices[0].message.content == "served by the new deployment"
    assert fake.last.headers["authorization"] == f"Bearer {SECRET}"
    assert fake.last.body["model"] == "gpt-remote"
    assert "api-only" in [m.id for m in oai.models.list()]

    listed = _admin(live, "GET")
    assert listed.status_code == 200 and SECRET not in listed.text and ENV_KEY not in listed.text
    assert {"listed-main", created["id"]} <= {d["id"] for d in listed.json()["data"]}

    db = sqlite3.connect(live.workdir / "shared.db")
    try:
        (stored,) = db.execute("select credentials from deployments where id = ?", (created["id"],)).fetchone()
    finally:
        db.close()
    assert stored and SECRET not in stored and "sk-" not in stored

    assert _admin(live, "DELETE", f"/{created['id']}").json() == {
        "object": "organization.deployment.deleted", "id": created["id"], "deleted": True}
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model="api-only", messages=USER)
    assert _admin(live, "GET", f"/{created['id']}").status_code == 404


def test_modified_key_and_priority_take_effect_without_restart(live, oai, fake) -> None:
    created = _create(live, fake, model="listed", upstream_model="gpt-preferred", priority=5)
    fake.script(ow.completion("still the yaml one"))
    oai.chat.completions.create(model="listed", messages=USER)
    assert fake.last.body["model"] == "gpt-listed"  # priority 5 comes after the YAML's 0

    changed = _admin(live, "POST", f"/{created['id']}", {"priority": -1, "api_key": "sk-rotated-key-0000"})
    assert changed.status_code == 200 and changed.json()["redacted_api_key"] == "sk-...0000"
    fake.script(ow.completion("now the api one"))
    assert oai.chat.completions.create(model="listed", messages=USER).choices[0].message.content == "now the api one"
    assert fake.last.body["model"] == "gpt-preferred"
    assert fake.last.headers["authorization"] == "Bearer sk-rotated-key-0000"
    assert _admin(live, "DELETE", f"/{created['id']}").status_code == 200


@pytest.mark.parametrize(("body", "param"), [
    ({"provider": "openai"}, "model"),
    ({"model": "m"}, "provider"),
    ({"model": "m", "provider": "bedrock"}, "provider"),
    ({"model": "m", "provider": "openai", "weight": 0}, "weight"),
    ({"model": "m", "provider": "openai", "rpm": "many"}, "rpm"),
    ({"model": "m", "provider": "openai", "base_url": "ftp://x"}, "base_url"),
    ({"model": "m", "provider": "openai", "colour": "red"}, "colour"),
])
def test_bad_input_is_a_400_naming_the_field(live, body, param) -> None:
    answer = _admin(live, "POST", body=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param


def test_declared_deployments_are_read_only_and_unknown_ids_404(live) -> None:
    for method, body in [("DELETE", None), ("POST", {"weight": 2})]:
        refused = _admin(live, method, "/listed-main", body)
        assert refused.status_code == 400 and "config file" in refused.json()["error"]["message"]
        assert refused.json()["error"]["param"] == "deployment_id"
    assert _admin(live, "GET", "/dep_nope").status_code == 404
    assert _admin(live, "POST", "/dep_nope", {"weight": 2}).status_code == 404


async def test_project_keys_cannot_manage_deployments(live) -> None:
    db = Database(f"sqlite+aiosqlite:///{live.workdir / 'shared.db'}")
    await db.start()
    try:
        _, secret = await ApiKeyRepository(db).create("owner_project", "project key")
    finally:
        await db.aclose()
    for method, path, body in [("GET", "", None), ("POST", "", {"model": "x", "provider": "openai"}),
                               ("GET", "/listed-main", None), ("DELETE", "/listed-main", None)]:
        answer = _admin(live, method, path, body, key=secret)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "insufficient_permissions"


def test_another_process_picks_up_a_new_deployment(live, fake, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FO_UPSTREAM_KEY", ENV_KEY)
    other = LiveServer(tmp_path, [], **_settings(fake, live.workdir / "shared.db"))
    other.start()
    try:
        created = _create(live, fake, model="shared-model", upstream_model="gpt-shared")
        client = openai.OpenAI(base_url=other.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60)
        deadline = time.monotonic() + 30
        while "shared-model" not in [m.id for m in client.models.list()]:
            assert time.monotonic() < deadline, "the other process never saw the deployment"
            time.sleep(0.1)
        fake.script(ow.completion("from the other process"))
        reply = client.chat.completions.create(model="shared-model", messages=USER)
        assert reply.choices[0].message.content == "from the other process"
        assert fake.last.headers["authorization"] == f"Bearer {SECRET}"
        _admin(live, "DELETE", f"/{created['id']}")
    finally:
        other.stop()
