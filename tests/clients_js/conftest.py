"""The AI SDK programs, copied once per session next to the installed SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients_js.node import programs


@pytest.fixture(scope="session")
def js_programs() -> Iterator[Path]:
    with programs() as work:
        yield work
