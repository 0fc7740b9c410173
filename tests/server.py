"""A live Switchyard in a child process on loopback, as a user would run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import yaml

from tests.fakes.loopback import free_port

MASTER_KEY = "sk-test-master"


def sdk(server: LiveServer, key: str = MASTER_KEY, **options: object) -> openai.OpenAI:
    """The official client on ``server``: strict response validation, no retries."""
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True, **options)  # type: ignore[arg-type]


class LiveServer:
    def __init__(self, workdir: Path, models: list[dict[str, Any]], **settings: Any) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.config_path = workdir / "switchyard.yaml"
        # a stop (SIGINT) drains for at most 2 s (+3 s for the streams' error events)
        config = {"models": models, "port": self.port, "host": "127.0.0.1", "drain_seconds": 2, **settings}
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_ready: bool = False, timeout: float = 120) -> None:
        env = {**os.environ, "SWITCHYARD_MASTER_KEY": MASTER_KEY,
               "SWITCHYARD_DATA_DIR": str(self.workdir / "data")}
        env.pop("SWITCHYARD_CONFIG", None)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchyard.cli", "serve", "--config", str(self.config_path)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )
        self.wait("/ready" if wait_ready else "/health", timeout)

    def wait(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not {path} in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@asynccontextmanager
async def postgres_pair(tmp_path: Path, build: Callable[[Path, str], LiveServer], *, admin_url: str | None = None,
                        timeout: float = 180) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two processes, ``a`` and ``b``, made by ``build(workdir, database_url)`` on one new
    PostgreSQL database, started and ready; both stopped on the way out."""
    from tests.pg import ADMIN_URL, fresh_postgres_url

    async with fresh_postgres_url(admin_url or ADMIN_URL) as url:
        servers: list[LiveServer] = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(build(tmp_path / name, url))
        try:
            for server in servers:
                server.start(wait_ready=True, timeout=timeout)
            yield servers[0], servers[1]
        finally:
            for server in servers:
                server.stop()
