"""Project API keys: shown once, expiry, enable/disable, model and IP allowlists,
limits and budget; service accounts; admin keys; project keys refused on admin endpoints."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import pytest

from tests.admin.conftest import Tenant
from tests.conftest import LOCAL_EMBEDDING, VIA_ANTHROPIC, VIA_OPENAI
from tests.fakes import openai_wire as ow
from tests.server import LiveServer, sdk
from tests.tenants import admin_client

HELLO = [{"role": "user", "content": "hi"}]


def _key_path(tenant: Tenant) -> str:
    return f"/projects/{tenant.project_id}/api_keys/{tenant.key_id}"


def _chat(client: openai.OpenAI, fake_openai, model: str = VIA_OPENAI) -> str:
    fake_openai.script(ow.completion("ok"))
    return client.chat.completions.create(model=model, messages=HELLO).choices[0].message.content or ""


def test_a_service_account_key_is_shown_once_and_stored_redacted(org_server: LiveServer, admin: httpx.Client,
                                                                 alice: Tenant, fake_openai) -> None:
    created = admin.post(f"/projects/{alice.project_id}/service_accounts", json={"name": "ci bot"}).json()
    assert created["object"] == "organization.project.service_account" and created["role"] == "member"
    key = created["api_key"]
    assert key["object"] == "organization.project.service_account.api_key" and key["value"].startswith("sk-sy-")
    assert _chat(sdk(org_server, key["value"]), fake_openai) == "ok"

    listed = admin.get(f"/projects/{alice.project_id}/api_keys").json()
    assert listed["object"] == "list" and {k["id"] for k in listed["data"]} == {alice.key_id, key["id"]}
    stored = next(k for k in listed["data"] if k["id"] == key["id"])
    assert "value" not in stored and key["value"] not in str(listed)
    assert stored["redacted_value"].startswith(key["value"][:8]) and stored["redacted_value"].endswith("****")
    assert stored["owner"] == {"type": "service_account", "service_account": {
        "id": created["id"], "name": "ci bot", "created_at": created["created_at"], "role": "member"}}
    assert stored["object"] == "organization.project.api_key" and stored["owner_project_access"] == "active"

    extra = admin.post(f"/projects/{alice.project_id}/service_accounts/{created['id']}/api_keys",
                       json={"name": "second"}).json()
    assert extra["object"] == "organization.project.service_account.api_key" and extra["name"] == "second"
    assert _chat(sdk(org_server, extra["value"]), fake_openai) == "ok"

    role_only = admin.post(f"/projects/{alice.project_id}/service_accounts/{created['id']}", json={"role": "owner"})
    assert (role_only.json()["name"], role_only.json()["role"]) == ("ci bot", "owner")
    renamed = admin.post(f"/projects/{alice.project_id}/service_accounts/{created['id']}", json={"name": "ci"})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["role"]) == ("ci", "owner")
    assert admin.get(f"/projects/{alice.project_id}/service_accounts/{created['id']}").json() == renamed.json()

    only = admin.post(f"/projects/{alice.project_id}/service_accounts",
                      json={"name": "no key", "create_service_account_only": True}).json()
    assert only["api_key"] is None

    gone = admin.delete(f"/projects/{alice.project_id}/service_accounts/{created['id']}").json()
    assert gone == {"object": "organization.project.service_account.deleted", "id": created["id"], "deleted": True}
    for secret in (key["value"], extra["value"]):
        with pytest.raises(openai.AuthenticationError):
            sdk(org_server, secret).models.list()
    accounts = admin.get(f"/projects/{alice.project_id}/service_accounts").json()["data"]
    assert [a["id"] for a in accounts] == [only["id"]]


def test_deleted_key_is_refused_and_gone(org_server: LiveServer, admin: httpx.Client, alice: Tenant) -> None:
    response = admin.delete(_key_path(alice))
    assert response.json() == {"object": "organization.project.api_key.deleted", "id": alice.key_id,
                               "deleted": True}
    with pytest.raises(openai.AuthenticationError) as caught:
        alice.client.models.list()
    assert caught.value.body["code"] == "invalid_api_key"
    assert admin.get(_key_path(alice)).status_code == 404
    assert admin.delete(_key_path(alice)).status_code == 404


def test_expiry(org_server: LiveServer, admin: httpx.Client, alice: Tenant) -> None:
    past = int(time.time()) - 60
    changed = admin.post(_key_path(alice), json={"expires_at": past}).json()
    assert changed["expires_at"] == past
    with pytest.raises(openai.AuthenticationError) as caught:
        alice.client.models.list()
    assert caught.value.body["code"] == "api_key_expired" and "expired" in caught.value.body["message"]
    renewed = admin.post(_key_path(alice), json={"expires_in_seconds": 3600}).json()
    assert renewed["expires_at"] >= int(time.time()) + 3500
    assert alice.client.models.list().data
    assert admin.post(_key_path(alice), json={"expires_at": None}).json()["expires_at"] is None

    soon = admin.post(f"/projects/{alice.project_id}/api_keys", json={"expires_in_seconds": 120}).json()
    assert abs(soon["expires_at"] - (int(time.time()) + 120)) < 30


def test_disable_and_enable(org_server: LiveServer, admin: httpx.Client, alice: Tenant, fake_openai) -> None:
    assert admin.post(_key_path(alice), json={"enabled": False}).json()["enabled"] is False
    with pytest.raises(openai.AuthenticationError) as caught:
        alice.client.chat.completions.create(model=VIA_OPENAI, messages=HELLO)
    assert caught.value.body["code"] == "api_key_disabled"
    anthropic_shape = httpx.post(org_server.url + "/v1/messages", headers={
        "x-api-key": alice.secret, "anthropic-version": "2023-06-01"},
        json={"model": VIA_ANTHROPIC, "max_tokens": 5, "messages": HELLO})
    assert anthropic_shape.status_code == 401
    assert anthropic_shape.json()["type"] == "error"
    assert anthropic_shape.json()["error"]["type"] == "authentication_error"
    assert admin.post(_key_path(alice), json={"enabled": True}).json()["enabled"] is True
    assert _chat(alice.client, fake_openai) == "ok"


def test_key_model_allowlist(org_server: LiveServer, admin: httpx.Client, alice: Tenant, fake_openai) -> None:
    body = admin.post(_key_path(alice), json={"allowed_models": [VIA_OPENAI, "all-minilm-*"]}).json()
    assert body["allowed_models"] == [VIA_OPENAI, "all-minilm-*"]
    assert _chat(alice.client, fake_openai) == "ok"
    assert alice.client.embeddings.create(model=LOCAL_EMBEDDING, input="x", encoding_format="float").data
    with pytest.raises(openai.PermissionDeniedError) as caught:
        alice.client.chat.completions.create(model=VIA_ANTHROPIC, messages=HELLO)
    error = caught.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model" and VIA_ANTHROPIC in error["message"]
    with pytest.raises(openai.PermissionDeniedError):
        alice.client.responses.create(model=VIA_ANTHROPIC, input="x")
    messages = httpx.post(org_server.url + "/v1/messages", headers={
        "x-api-key": alice.secret, "anthropic-version": "2023-06-01"},
        json={"model": VIA_ANTHROPIC, "max_tokens": 5, "messages": HELLO})
    assert messages.status_code == 403 and messages.json()["error"]["type"] == "permission_error"
    assert {m.id for m in alice.client.models.list()} == {VIA_OPENAI, LOCAL_EMBEDDING}
    with pytest.raises(openai.NotFoundError):
        alice.client.models.retrieve(VIA_ANTHROPIC)
    # an alias resolving to an allowed model is allowed
    fake_openai.script(ow.completion("via alias"))
    assert alice.client.chat.completions.create(model="gpt-alias-1", messages=HELLO).choices[0].message.content
    assert admin.post(_key_path(alice), json={"allowed_models": None}).json()["allowed_models"] is None
    fake_openai.script(ow.completion("unused"))
    assert VIA_ANTHROPIC in {m.id for m in alice.client.models.list()}


def test_project_model_permissions(org_server: LiveServer, admin: httpx.Client, alice: Tenant, fake_openai) -> None:
    path = f"/projects/{alice.project_id}/model_permissions"
    assert admin.get(path).json() == {"object": "project.model_permissions", "mode": "deny_list", "model_ids": []}
    denied = admin.post(path, json={"mode": "deny_list", "model_ids": [VIA_OPENAI]}).json()
    assert denied == {"object": "project.model_permissions", "mode": "deny_list", "model_ids": [VIA_OPENAI]}
    with pytest.raises(openai.PermissionDeniedError) as caught:
        alice.client.chat.completions.create(model=VIA_OPENAI, messages=HELLO)
    assert caught.value.body["code"] == "model_not_found"
    # the master key acting in the project is bound by the project's permissions too
    with pytest.raises(openai.PermissionDeniedError):
        sdk(org_server, project=alice.project_id).chat.completions.create(model=VIA_OPENAI, messages=HELLO)
    assert _chat(sdk(org_server), fake_openai) == "ok"  # the default project is not
    admin.post(path, json={"mode": "allow_list", "model_ids": [VIA_OPENAI]})
    assert _chat(alice.client, fake_openai) == "ok"
    with pytest.raises(openai.PermissionDeniedError):
        alice.client.embeddings.create(model=LOCAL_EMBEDDING, input="x")
    assert admin.delete(path).json() == {"object": "project.model_permissions.deleted", "deleted": True}
    assert alice.client.embeddings.create(model=LOCAL_EMBEDDING, input="x", encoding_format="float").data
    bad = admin.post(path, json={"mode": "maybe", "model_ids": []})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "mode"


def test_ip_allowlist(org_server: LiveServer, admin: httpx.Client, alice: Tenant, fake_openai) -> None:
    assert admin.post(_key_path(alice), json={"allowed_ips": ["10.0.0.0/8", "2001:db8::/32"]}).json()[
        "allowed_ips"] == ["10.0.0.0/8", "2001:db8::/32"]
    with pytest.raises(openai.PermissionDeniedError) as caught:
        alice.client.chat.completions.create(model=VIA_OPENAI, messages=HELLO)
    assert caught.value.body["code"] == "ip_not_allowed" and "127.0.0.1" in caught.value.body["message"]
    # through the trusted proxy (this server trusts loopback) the forwarded client address counts
    behind_proxy = sdk(org_server, alice.secret, default_headers={"x-forwarded-for": "10.1.2.3"})
    assert _chat(behind_proxy, fake_openai) == "ok"
    elsewhere = sdk(org_server, alice.secret, default_headers={"x-forwarded-for": "192.0.2.9"})
    with pytest.raises(openai.PermissionDeniedError):
        elsewhere.models.list()
    admin.post(_key_path(alice), json={"allowed_ips": ["127.0.0.1"]})
    assert _chat(alice.client, fake_openai) == "ok"
    bad = admin.post(_key_path(alice), json={"allowed_ips": ["10.0.0.0/8", "not-an-ip"]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "allowed_ips[1]"


def test_limits_and_budget_are_stored_on_the_key(admin: httpx.Client, alice: Tenant) -> None:
    body = admin.post(_key_path(alice), json={
        "name": "renamed", "max_requests_per_1_minute": 60, "max_tokens_per_1_minute": 10000,
        "max_concurrent_requests": 4, "spend_limit": {"threshold_amount": 1250, "interval": "month"}}).json()
    assert body["name"] == "renamed"
    assert (body["max_requests_per_1_minute"], body["max_tokens_per_1_minute"], body["max_concurrent_requests"]) \
        == (60, 10000, 4)
    assert body["spend_limit"] == {"threshold_amount": 1250, "currency": "USD", "interval": "month"}
    assert admin.get(_key_path(alice)).json() == body
    cleared = admin.post(_key_path(alice), json={"max_requests_per_1_minute": None, "spend_limit": None}).json()
    assert cleared["max_requests_per_1_minute"] is None and cleared["spend_limit"] is None
    assert cleared["max_tokens_per_1_minute"] == 10000


@pytest.mark.parametrize(("body", "param"), [
    ({"max_requests_per_1_minute": 0}, "max_requests_per_1_minute"),
    ({"max_tokens_per_1_minute": "many"}, "max_tokens_per_1_minute"),
    ({"enabled": "yes"}, "enabled"),
    ({"expires_at": -5}, "expires_at"),
    ({"expires_at": 10**18}, "expires_at"),
    ({"expires_in_seconds": 10**12}, "expires_in_seconds"),
    ({"max_concurrent_requests": 2**40}, "max_concurrent_requests"),
    ({"spend_limit": {"threshold_amount": 10**18}}, "spend_limit.threshold_amount"),
    ({"allowed_models": "gpt"}, "allowed_models"),
    ({"allowed_models": ["ok", ""]}, "allowed_models[1]"),
    ({"spend_limit": {"threshold_amount": -1}}, "spend_limit.threshold_amount"),
    ({"spend_limit": {"threshold_amount": 5, "interval": "week"}}, "spend_limit.interval"),
    ({"colour": "red"}, "colour"),
])
def test_bad_key_settings_are_named(admin: httpx.Client, alice: Tenant, body: dict, param: str) -> None:
    response = admin.post(_key_path(alice), json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]


def test_project_keys_cannot_administer(org_server: LiveServer, alice: Tenant) -> None:
    with admin_client(org_server.url, alice.secret) as as_project:
        for method, path in [("GET", "/projects"), ("POST", "/projects"), ("GET", "/admin_api_keys"),
                             ("GET", f"/projects/{alice.project_id}/api_keys"), ("GET", "/users"),
                             ("POST", f"/projects/{alice.project_id}/api_keys")]:
            response = as_project.request(method, path, json={"name": "x"} if method == "POST" else None)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["code"] == "insufficient_permissions"


def test_admin_key_lifecycle(org_server: LiveServer, admin: httpx.Client, alice: Tenant) -> None:
    created = admin.post("/admin_api_keys", json={"name": "ops", "expires_in_seconds": 3600}).json()
    assert created["object"] == "organization.admin_api_key" and created["name"] == "ops"
    assert created["value"].startswith("sk-sy-admin-") and created["expires_at"] > time.time()
    assert created["owner"]["role"] == "owner"
    with admin_client(org_server.url, created["value"]) as ops:
        project = ops.post("/projects", json={"name": "made by ops"}).json()
        assert project["object"] == "organization.project" and project["status"] == "active"
        key = ops.post(f"/projects/{project['id']}/api_keys", json={"name": "k"}).json()
        assert sdk(org_server, key["value"]).models.list().data
        listed = ops.get("/admin_api_keys").json()
        assert created["id"] in [k["id"] for k in listed["data"]]
        assert all("value" not in k for k in listed["data"]) and created["value"] not in str(listed)
        assert ops.get(f"/admin_api_keys/{created['id']}").json()["redacted_value"].endswith("****")
    # admin keys manage the organization; they do not call the model APIs
    with pytest.raises(openai.PermissionDeniedError) as caught:
        sdk(org_server, created["value"]).models.list()
    assert caught.value.body["code"] == "insufficient_permissions"
    assert admin.delete(f"/admin_api_keys/{created['id']}").json() == {
        "object": "organization.admin_api_key.deleted", "id": created["id"], "deleted": True}
    with admin_client(org_server.url, created["value"]) as revoked:
        assert revoked.get("/projects").status_code == 401
    assert admin.get(f"/admin_api_keys/{created['id']}").status_code == 404


def test_project_keys_on_the_anthropic_surface(org_server: LiveServer, admin: httpx.Client, alice: Tenant,
                                               fake_anthropic) -> None:
    from tests.fakes import anthropic_wire as aw

    claude = anthropic.Anthropic(base_url=org_server.url, api_key=alice.secret, max_retries=0,
                                 _strict_response_validation=True)
    fake_anthropic.script(aw.message([aw.text("hello from claude")]))
    reply = claude.messages.create(model=VIA_ANTHROPIC, max_tokens=10, messages=HELLO)
    assert reply.content[0].text == "hello from claude"  # type: ignore[union-attr]
    admin.post(_key_path(alice), json={"allowed_models": [VIA_OPENAI]})
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        claude.messages.create(model=VIA_ANTHROPIC, max_tokens=10, messages=HELLO)
    assert VIA_ANTHROPIC in caught.value.message
    admin.post(_key_path(alice), json={"enabled": False})
    with pytest.raises(anthropic.AuthenticationError):
        claude.messages.create(model=VIA_OPENAI, max_tokens=10, messages=HELLO)


def test_last_used_at_is_recorded(admin: httpx.Client, alice: Tenant) -> None:
    assert admin.get(_key_path(alice)).json()["last_used_at"] is None
    alice.client.models.list()
    deadline = time.monotonic() + 10
    while admin.get(_key_path(alice)).json()["last_used_at"] is None:  # written off the request path
        assert time.monotonic() < deadline, "last_used_at never written"
        time.sleep(0.1)
    assert abs(admin.get(_key_path(alice)).json()["last_used_at"] - time.time()) < 120


def test_a_key_issued_straight_into_the_store_works(org_server: LiveServer, admin: httpx.Client) -> None:
    import asyncio

    from switchyard.store import ApiKeyRepository, Database

    async def issue() -> str:
        db = Database(f"sqlite+aiosqlite:///{org_server.workdir / 'data' / 'switchyard.db'}")
        await db.start()
        try:
            return (await ApiKeyRepository(db).create("proj_scripted", "scripted"))[1]
        finally:
            await db.aclose()

    assert sdk(org_server, asyncio.run(issue())).models.list().data
    assert admin.get("/projects/proj_scripted").json()["name"] == "proj_scripted"
