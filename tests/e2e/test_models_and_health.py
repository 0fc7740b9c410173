"""Models listing in both vendors' shapes, and the health endpoints."""

from __future__ import annotations

import httpx

from tests.conftest import (
    LOCAL,
    LOCAL_EMBEDDING,
    LOCAL_RERANK,
    VIA_ANTHROPIC,
    VIA_JINA_RERANK,
    VIA_OPENAI,
    VIA_OPENAI_EMBEDDING,
    VIA_RESPONSES,
)
from tests.server import MASTER_KEY

ALL = [LOCAL, VIA_OPENAI, VIA_RESPONSES, VIA_ANTHROPIC, LOCAL_EMBEDDING, VIA_OPENAI_EMBEDDING, LOCAL_RERANK,
       VIA_JINA_RERANK]


def test_openai_models_list_and_get(oai) -> None:
    ids = [m.id for m in oai.models.list()]
    assert ids == ALL
    model = oai.models.retrieve(VIA_ANTHROPIC)
    assert model.id == VIA_ANTHROPIC and model.object == "model" and model.owned_by == "anthropic"


def test_anthropic_models_list_and_get(claude) -> None:
    page = claude.models.list()
    assert [m.id for m in page.data] == ALL
    assert page.data[0].type == "model"
    assert claude.models.retrieve(VIA_OPENAI).id == VIA_OPENAI


def test_health_and_ready(server) -> None:
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "store": True, "models": True}


def test_models_need_a_key(server) -> None:
    assert httpx.get(server.url + "/v1/models").status_code == 401
    assert httpx.get(server.url + "/v1/models", headers={"authorization": f"Bearer {MASTER_KEY}"}).is_success
