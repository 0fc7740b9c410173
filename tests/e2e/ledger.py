"""Reading the usage ledger of a live server the way an administrator does: through the
admin endpoints, waiting for the batched writer to have written."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.server import MASTER_KEY, LiveServer

ADMIN = {"authorization": f"Bearer {MASTER_KEY}"}
WAIT = 20.0


def entries(server: LiveServer, **params: Any) -> list[dict[str, Any]]:
    """Every ledger entry (newest first) matching ``params``."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        query = {**params, "limit": 1000, **({"after": after} if after else {})}
        page = httpx.get(server.url + "/v1/organization/requests", params=query, headers=ADMIN, timeout=30)
        assert page.status_code == 200, page.text
        body = page.json()
        found.extend(body["data"])
        if not body["has_more"]:
            return found
        after = body["last_id"]


def newest_id(server: LiveServer) -> str | None:
    page = entries(server)
    return page[0]["id"] if page else None


def wait_new(server: LiveServer, since: str | None, count: int = 1, **params: Any) -> list[dict[str, Any]]:
    """The ``count`` entries matching ``params`` written after the entry ``since`` (oldest
    first), once there."""
    deadline = time.monotonic() + WAIT
    while True:
        every = entries(server, **params)
        ids = [e["id"] for e in every]
        new = every[:ids.index(since)] if since in ids else every
        if len(new) >= count:
            return list(reversed(new))
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} new ledger entries never came; got {new}")
        time.sleep(0.05)
