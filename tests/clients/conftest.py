"""A ``backend`` fixture, parametrized indirectly with a model name."""

from __future__ import annotations

import pytest

from tests.clients.backends import Backend
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer


@pytest.fixture
def backend(request: pytest.FixtureRequest, server: LiveServer, fake_openai: FakeUpstream,
            fake_anthropic: FakeUpstream) -> Backend:
    return Backend(request.param, fake_openai, fake_anthropic)
