"""One pool of real sandboxes for the module, with small limits so limits are hit fast."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from switchyard.sandbox import SandboxLimits, SandboxPool, SandboxSettings

LIMITS = SandboxLimits(cpu_seconds=2, wall_seconds=15.0, memory_bytes=768 * 1024**2, processes=32,
                       file_bytes=8 * 1024**2, disk_bytes=24 * 1024**2, tmp_bytes=16 * 1024**2, output_bytes=4096)

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="scripts/install-sandbox.sh not run")


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[SandboxPool]:
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is missing: run scripts/install-sandbox.sh")
    pool = SandboxPool(SandboxSettings(limits=LIMITS, warm=2, max_sessions=8))
    await pool.start()
    yield pool
    await pool.aclose()


@pytest.fixture(autouse=True)
async def end_sessions(pool: SandboxPool) -> AsyncIterator[None]:
    """Each test's sessions end with it (as if idle for ever)."""
    yield
    await pool.reap(now=float("inf"))
