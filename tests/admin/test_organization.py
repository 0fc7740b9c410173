"""Projects, pagination, per-model rate limits, spend limits and users, in the
shapes of OpenAI's Administration API."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.admin.conftest import Tenant
from tests.conftest import LOCAL_EMBEDDING, VIA_ANTHROPIC, VIA_OPENAI, VIA_RESPONSES
from tests.server import LiveServer, sdk


def _project(admin: httpx.Client, name: str) -> dict:
    response = admin.post("/projects", json={"name": name})
    assert response.status_code == 200, response.text
    return response.json()


def test_project_lifecycle(org_server: LiveServer, admin: httpx.Client) -> None:
    project = _project(admin, "Lifecycle")
    assert project["object"] == "organization.project" and project["id"].startswith("proj_")
    assert (project["name"], project["status"], project["archived_at"]) == ("Lifecycle", "active", None)
    assert isinstance(project["created_at"], int)
    assert admin.get(f"/projects/{project['id']}").json() == project

    renamed = admin.post(f"/projects/{project['id']}", json={"name": "Renamed", "max_requests_per_1_minute": 100,
                                                             "max_concurrent_requests": 3}).json()
    assert (renamed["name"], renamed["max_requests_per_1_minute"], renamed["max_concurrent_requests"]) == (
        "Renamed", 100, 3)
    key = admin.post(f"/projects/{project['id']}/api_keys", json={}).json()
    assert sdk(org_server, key["value"]).models.list().data

    archived = admin.post(f"/projects/{project['id']}/archive").json()
    assert archived["status"] == "archived" and isinstance(archived["archived_at"], int)
    with pytest.raises(openai.AuthenticationError):
        sdk(org_server, key["value"]).models.list()
    refused = admin.post(f"/projects/{project['id']}/api_keys", json={})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "project_archived"
    active_ids = [p["id"] for p in admin.get("/projects", params={"limit": 100}).json()["data"]]
    assert project["id"] not in active_ids and "proj_default" in active_ids
    everything = admin.get("/projects", params={"limit": 100, "include_archived": "true"}).json()["data"]
    assert project["id"] in [p["id"] for p in everything]


def test_default_project_exists_and_cannot_be_archived(admin: httpx.Client) -> None:
    default = admin.get("/projects/proj_default").json()
    assert default["name"] == "Default project" and default["status"] == "active"
    refused = admin.post("/projects/proj_default/archive")
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "project_id"


def test_pagination(admin: httpx.Client) -> None:
    made = [_project(admin, f"page {i}")["id"] for i in range(5)]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"after": after} if after else {})}
        page = admin.get("/projects", params=params).json()
        assert page["object"] == "list" and len(page["data"]) <= 2
        ids = [p["id"] for p in page["data"]]
        assert (page["first_id"], page["last_id"]) == (ids[0], ids[-1])
        seen += ids
        pages += 1
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen[-5:] == made and len(seen) == len(set(seen)) and pages >= 3
    bad = admin.get("/projects", params={"limit": 0})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"
    unknown = admin.get("/projects", params={"after": "proj_nope"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "after"


def test_key_and_service_account_lists_page(admin: httpx.Client, alice: Tenant) -> None:
    for i in range(3):
        admin.post(f"/projects/{alice.project_id}/service_accounts", json={"name": f"bot {i}"})
    first = admin.get(f"/projects/{alice.project_id}/api_keys", params={"limit": 2}).json()
    assert len(first["data"]) == 2 and first["has_more"] is True
    rest = admin.get(f"/projects/{alice.project_id}/api_keys", params={"after": first["last_id"]}).json()
    assert len(rest["data"]) == 2 and rest["has_more"] is False
    assert first["data"][0]["id"] == alice.key_id  # oldest first
    accounts = admin.get(f"/projects/{alice.project_id}/service_accounts", params={"limit": 1}).json()
    assert accounts["has_more"] is True and accounts["data"][0]["name"] == "bot 0"


def test_another_projects_key_is_not_found_under_this_project(admin: httpx.Client, alice: Tenant,
                                                              bob: Tenant) -> None:
    crossed = f"/projects/{bob.project_id}/api_keys/{alice.key_id}"
    assert admin.get(crossed).status_code == 404
    assert admin.post(crossed, json={"enabled": False}).status_code == 404
    assert admin.delete(crossed).status_code == 404
    assert alice.client.models.list().data
    assert admin.get("/projects/proj_nope").status_code == 404
    assert admin.get("/projects/proj_nope/api_keys").status_code == 404


def test_rate_limits(admin: httpx.Client, alice: Tenant) -> None:
    path = f"/projects/{alice.project_id}/rate_limits"
    listed = admin.get(path).json()
    assert listed["object"] == "list" and listed["has_more"] is False
    by_model = {r["model"]: r for r in listed["data"]}
    assert {VIA_OPENAI, VIA_ANTHROPIC, VIA_RESPONSES, LOCAL_EMBEDDING} <= set(by_model)
    limit = by_model[VIA_OPENAI]
    assert limit == {"object": "project.rate_limit", "id": f"rl-{VIA_OPENAI}", "model": VIA_OPENAI,
                     "max_requests_per_1_minute": 0, "max_tokens_per_1_minute": 0,
                     "max_concurrent_requests": 0}  # 0: no limit set
    updated = admin.post(f"{path}/{limit['id']}", json={"max_requests_per_1_minute": 30,
                                                       "max_tokens_per_1_minute": 40000}).json()
    assert (updated["max_requests_per_1_minute"], updated["max_tokens_per_1_minute"]) == (30, 40000)
    again = {r["model"]: r for r in admin.get(path).json()["data"]}[VIA_OPENAI]
    assert again == updated
    cleared = admin.post(f"{path}/{limit['id']}", json={"max_requests_per_1_minute": 0}).json()
    assert (cleared["max_requests_per_1_minute"], cleared["max_tokens_per_1_minute"]) == (0, 40000)
    assert admin.post(f"{path}/rl-nope", json={"max_requests_per_1_minute": 1}).status_code == 404
    too_big = admin.post(f"{path}/{limit['id']}", json={"max_tokens_per_1_minute": 2**40})
    assert too_big.status_code == 400 and too_big.json()["error"]["param"] == "max_tokens_per_1_minute"
    unsupported = admin.post(f"{path}/{limit['id']}", json={"max_images_per_1_minute": 3})
    assert unsupported.status_code == 400 and unsupported.json()["error"]["param"] == "max_images_per_1_minute"
    paged = admin.get(path, params={"limit": 1}).json()
    assert len(paged["data"]) == 1 and paged["has_more"] is True


def test_spend_limit(admin: httpx.Client, alice: Tenant) -> None:
    path = f"/projects/{alice.project_id}/spend_limit"
    assert admin.get(path).status_code == 404
    body = admin.post(path, json={"threshold_amount": 10000, "currency": "USD", "interval": "month"}).json()
    assert body == {"object": "project.spend_limit", "threshold_amount": 10000, "currency": "USD",
                    "interval": "month", "enforcement": {"status": "enforcing"}}  # cents, as OpenAI's
    total = admin.post(path, json={"threshold_amount": 275, "currency": "USD", "interval": "total"}).json()
    assert (total["threshold_amount"], total["interval"]) == (275, "total")
    assert admin.get(path).json() == total
    assert admin.delete(path).json() == {"object": "project.spend_limit.deleted", "deleted": True}
    assert admin.get(path).status_code == 404
    for amount in (0, 2.5, "100"):
        bad = admin.post(path, json={"threshold_amount": amount, "currency": "USD", "interval": "month"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "threshold_amount"
    bad = admin.post(path, json={"threshold_amount": 5, "currency": "EUR", "interval": "month"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "currency"


def test_users_and_project_members(admin: httpx.Client, alice: Tenant) -> None:
    user = admin.post("/users", json={"email": "ada@example.com", "name": "Ada", "role": "owner"}).json()
    assert user["object"] == "organization.user" and user["id"].startswith("user-")
    assert (user["email"], user["name"], user["role"]) == ("ada@example.com", "Ada", "owner")
    assert admin.post("/users", json={"email": "ada@example.com"}).status_code == 400
    assert admin.get(f"/users/{user['id']}").json() == user
    found = admin.get("/users", params={"emails": "ada@example.com"}).json()["data"]
    assert [u["id"] for u in found] == [user["id"]]
    assert admin.post(f"/users/{user['id']}", json={"role": "reader"}).json()["role"] == "reader"
    bad = admin.post(f"/users/{user['id']}", json={"role": "emperor"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "role"

    members = f"/projects/{alice.project_id}/users"
    member = admin.post(members, json={"user_id": user["id"], "role": "member"}).json()
    assert member == {"object": "organization.project.user", "id": user["id"], "name": "Ada",
                      "email": "ada@example.com", "role": "member", "added_at": member["added_at"]}
    assert admin.post(members, json={"user_id": user["id"], "role": "member"}).status_code == 400
    assert admin.post(f"{members}/{user['id']}", json={"role": "owner"}).json()["role"] == "owner"
    assert [m["id"] for m in admin.get(members).json()["data"]] == [user["id"]]
    assert admin.delete(f"{members}/{user['id']}").json() == {
        "object": "organization.project.user.deleted", "id": user["id"], "deleted": True}
    assert admin.get(f"{members}/{user['id']}").status_code == 404
    assert admin.delete(f"/users/{user['id']}").json()["deleted"] is True
    assert admin.get(f"/users/{user['id']}").status_code == 404


@pytest.mark.parametrize(("body", "param"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": 5}, "name"),
    ({"name": "x", "max_tokens_per_1_minute": -1}, "max_tokens_per_1_minute"),
    ({"name": "x", "residency": "MARS"}, "residency"),
])
def test_bad_project_bodies_are_named(admin: httpx.Client, body: dict, param: str) -> None:
    response = admin.post("/projects", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_malformed_json_is_400(admin: httpx.Client) -> None:
    response = admin.post("/projects", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]
