"""A live Switchyard with the scripted upstreams and the embedded embedding model,
believing X-Forwarded-For from loopback (as behind a local reverse proxy)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LOCAL_EMBEDDING, upstream_models
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer, sdk
from tests.tenants import admin_client, new_key, new_project


@pytest.fixture(scope="session")
def org_server(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
               fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    models = [*upstream_models(fake_openai, fake_anthropic),
              {"name": LOCAL_EMBEDDING, "provider": "local", "task": "embedding"}]
    live = LiveServer(tmp_path_factory.mktemp("switchyard-org"), models, trusted_proxies=["127.0.0.1/32"])
    live.start(wait_ready=True)
    yield live
    live.stop()


@pytest.fixture
def admin(org_server: LiveServer) -> Iterator[httpx.Client]:
    with admin_client(org_server.url) as client:
        yield client


class Tenant:
    """A project with one API key, and an SDK client using it."""

    def __init__(self, server: LiveServer, name: str) -> None:
        self.project_id = new_project(server.url, name)
        self.key_id, self.secret = new_key(server.url, self.project_id, name)
        self.client = sdk(server, self.secret)


@pytest.fixture
def alice(org_server: LiveServer, request: pytest.FixtureRequest) -> Tenant:
    return Tenant(org_server, "alice " + request.node.name[:100])


@pytest.fixture
def bob(org_server: LiveServer, request: pytest.FixtureRequest) -> Tenant:
    return Tenant(org_server, "bob " + request.node.name[:100])
