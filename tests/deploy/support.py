"""The real deployment (``deploy/run.sh``: three Switchyard processes on one PostgreSQL
database and Redis, nginx in front) run as an operator would run it, on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import yaml

from tests.fakes.loopback import free_port
from tests.server import MASTER_KEY

ROOT = Path(__file__).resolve().parents[2]
RUN_SCRIPT = ROOT / "deploy" / "run.sh"
PROCESSES = 3


class Deployment:
    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.workdir = workdir
        self.run_dir = workdir / "run"
        self.listen_port = free_port()
        self.ports = [free_port() for _ in range(PROCESSES)]
        self.config_path = workdir / "switchyard.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / "deploy.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.killed: list[tuple[int, int]] = []  # (port, pid) of each process killed

    @property
    def url(self) -> str:
        """nginx's address: what clients use."""
        return f"http://127.0.0.1:{self.listen_port}"

    def process_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 300) -> None:
        env = {**os.environ, "SWITCHYARD_CONFIG": str(self.config_path), "SWITCHYARD_MASTER_KEY": MASTER_KEY,
               "DEPLOY_LISTEN": f"127.0.0.1:{self.listen_port}", "DEPLOY_PORTS": " ".join(map(str, self.ports)),
               "DEPLOY_RUN_DIR": str(self.run_dir), "SWITCHYARD_BIN": f"{sys.executable} -m switchyard.cli"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(["bash", str(RUN_SCRIPT)], stdout=log, stderr=subprocess.STDOUT,
                                            env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not (self.run_dir / "ready").exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"deploy/run.sh exited early:\n{self.logs()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the deployment was not ready in {timeout}s:\n{self.logs()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 120) -> int | None:
        """SIGTERM, as an operator stops it; the script's exit status."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise

    def logs(self) -> str:
        parts = [self.log_path.read_text(errors="replace")[-3000:]] if self.log_path.exists() else []
        for port in self.ports:
            parts.append(f"--- {port} ---\n{self.process_log(port)[-3000:]}")
        return "\n".join(parts)

    def pid(self, port: int) -> int:
        return int((self.run_dir / "pids" / f"serve-{port}.pid").read_text())

    def process_log(self, port: int) -> str:
        path = self.run_dir / "logs" / f"serve-{port}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def running(self, key: str, kind: str) -> int:
        """The port of the process that runs the job ``key`` of ``kind`` (from the line its
        runner logs)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for port in self.ports:
                if f"{kind} job {key} runs on" in self.process_log(port):
                    return port
            time.sleep(0.1)
        raise AssertionError(f"no process runs {kind} job {key}:\n{self.logs()}")

    def ready(self, port: int) -> bool:
        try:
            return httpx.get(self.process_url(port) + "/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, port: int) -> None:
        """SIGKILL to the process on ``port`` (the script starts it again), once another
        process is ready to take its work (one killed before may still be starting)."""
        deadline = time.monotonic() + 180
        while not any(self.ready(other) for other in self.ports if other != port):
            if time.monotonic() > deadline:
                raise AssertionError(f"no other process is ready:\n{self.logs()}")
            time.sleep(0.2)
        pid = self.pid(port)
        os.kill(pid, signal.SIGKILL)
        self.killed.append((port, pid))

    def wait_back(self, port: int, killed: int) -> None:
        """Until the script has started the process on ``port`` again and it is ready."""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.pid(port) != killed and self.ready(port):
                return
            time.sleep(0.2)
        raise AssertionError(f"the process on {port} was not started again:\n{self.logs()}")

    def openai(self, port: int | None = None) -> openai.OpenAI:
        """A client of nginx, or of the process on ``port``."""
        base = self.url if port is None else self.process_url(port)
        return openai.OpenAI(base_url=base + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                             _strict_response_validation=True)

    def anthropic(self, port: int | None = None) -> anthropic.Anthropic:
        base = self.url if port is None else self.process_url(port)
        return anthropic.Anthropic(base_url=base, api_key=MASTER_KEY, max_retries=0, timeout=60,
                                   _strict_response_validation=True)
