"""The AI SDK programs, copied once per session next to the installed SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients_js.matrix import MODELS, Backend
from tests.clients_js.node import Client, programs
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer


@pytest.fixture(scope="session")
def js_programs() -> Iterator[Path]:
    with programs() as work:
        yield work


@pytest.fixture
def setup(request: pytest.FixtureRequest, server: LiveServer, js_programs: Path,
          fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> tuple[Client, Backend]:
    kind, backend = request.param
    fake = fake_anthropic if backend == "anthropic" else fake_openai
    return Client(js_programs, server.url, MASTER_KEY, kind, MODELS[backend]), Backend(backend, fake)
