"""Malformed bodies and queries on every administration route answer a 4xx in
OpenAI's shape, never a 500."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.server import MASTER_KEY, LiveServer
from tests.tenants import new_key, new_project

BODIES = [
    b"", b"null", b"[]", b"42", b'"text"', b"{", b"{}",
    orjson.dumps({"name": None, "role": None, "mode": None, "model_ids": None, "threshold_amount": None}),
    orjson.dumps({"name": 7, "role": 7, "mode": 7, "model_ids": 7, "threshold_amount": "7", "currency": 7,
                  "interval": 7, "email": 7, "user_id": 7, "expires_in_seconds": "soon", "scopes": "all"}),
    orjson.dumps({"name": "x" * 5000, "email": "no-at-sign", "expires_in_seconds": 10**18,
                  "max_requests_per_1_minute": 1e308, "allowed_ips": ["300.1.1.1/99"], "expires_at": 10**18,
                  "spend_limit": [], "enabled": None, "allowed_models": [None], "model_ids": [[]]}),
    orjson.dumps({"name": "ok", "create_service_account_only": "yes", "spend_limit": {"threshold_amount": 10**18}}),
]


@pytest.fixture(scope="module")
def ids(org_server: LiveServer) -> dict[str, str]:
    project = new_project(org_server.url, "hostile")
    key_id, _ = new_key(org_server.url, project)
    with httpx.Client(base_url=org_server.url + "/v1/organization",
                      headers={"authorization": f"Bearer {MASTER_KEY}"}) as admin:
        account = admin.post(f"/projects/{project}/service_accounts",
                             json={"name": "sa", "create_service_account_only": True}).json()["id"]
        user = admin.post("/users", json={"email": "hostile@example.com"}).json()["id"]
    return {"p": project, "k": key_id, "sa": account, "u": user}


POSTS = ["/projects", "/projects/{p}", "/projects/{p}/api_keys", "/projects/{p}/api_keys/{k}",
         "/projects/{p}/service_accounts", "/projects/{p}/service_accounts/{sa}",
         "/projects/{p}/service_accounts/{sa}/api_keys", "/projects/{p}/model_permissions",
         "/projects/{p}/spend_limit", "/projects/{p}/rate_limits/rl-gpt-fake", "/admin_api_keys", "/users",
         "/users/{u}", "/projects/{p}/users", "/projects/{p}/users/{u}", "/projects/proj_missing/api_keys"]


@pytest.mark.parametrize("path", POSTS)
def test_malformed_bodies_never_get_a_server_error(org_server: LiveServer, ids: dict[str, str], path: str) -> None:
    headers = {"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json"}
    for body in BODIES:
        response = httpx.post(org_server.url + "/v1/organization" + path.format(**ids), content=body,
                              headers=headers, timeout=30)
        assert response.status_code < 500, (path, body[:120], response.text[:300])
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["message"] and error["type"], (path, body[:120])


@pytest.mark.parametrize("query", [
    "/projects?limit=abc", "/projects?limit=101", "/projects?include_archived=maybe", "/projects?after=x",
    "/admin_api_keys?order=sideways", "/projects/{p}/api_keys?owner_project_access=some",
    "/projects/{p}/rate_limits?limit=0", "/users?limit=-1", "/projects/proj_missing/rate_limits",
    "/projects/{p}/users/user-missing", "/admin_api_keys/key_missing",
])
def test_bad_queries_get_4xx(org_server: LiveServer, ids: dict[str, str], query: str) -> None:
    response = httpx.get(org_server.url + "/v1/organization" + query.format(**ids),
                         headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30)
    assert 400 <= response.status_code < 500, (query, response.status_code, response.text[:300])
    assert response.json()["error"]["message"]
