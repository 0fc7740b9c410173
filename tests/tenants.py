"""Projects and their keys, made through the live server's administration API with
the master key (as an operator would), for tests that need a second tenant."""

from __future__ import annotations

from typing import Any

import httpx

from tests.server import MASTER_KEY


def admin_client(base_url: str, key: str = MASTER_KEY) -> httpx.Client:
    return httpx.Client(base_url=base_url + "/v1/organization", timeout=30,
                        headers={"authorization": f"Bearer {key}"})


def deployments_call(base_url: str, method: str, path: str = "", body: Any = None,
                     key: str = MASTER_KEY) -> httpx.Response:
    """``/v1/organization/deployments{path}`` as an operator calls it."""
    with admin_client(base_url, key) as admin:
        return admin.request(method, "/deployments" + path, json=body)


def new_project(base_url: str, name: str) -> str:
    with admin_client(base_url) as admin:
        response = admin.post("/projects", json={"name": name})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])


def new_key(base_url: str, project_id: str, name: str = "test key", **settings: Any) -> tuple[str, str]:
    """A project API key (Switchyard's direct-create extension): its id and secret."""
    with admin_client(base_url) as admin:
        response = admin.post(f"/projects/{project_id}/api_keys", json={"name": name, **settings})
        assert response.status_code == 200, response.text
        body = response.json()
        return str(body["id"]), str(body["value"])


def project_key(base_url: str, name: str) -> str:
    """The secret of a key in a new project of its own."""
    return new_key(base_url, new_project(base_url, name), name)[1]


def revoke_key(base_url: str, project_id: str, key_id: str) -> None:
    with admin_client(base_url) as admin:
        response = admin.delete(f"/projects/{project_id}/api_keys/{key_id}")
        assert response.status_code == 200, response.text
