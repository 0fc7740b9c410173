"""A ``backend`` fixture, parametrized indirectly with a model name."""

from __future__ import annotations

import os

import pytest

from tests.clients.backends import Backend
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer

# LiteLLM fetches its model price map from the internet on import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def backend(request: pytest.FixtureRequest, server: LiveServer, fake_openai: FakeUpstream,
            fake_anthropic: FakeUpstream) -> Backend:
    return Backend(request.param, fake_openai, fake_anthropic)
