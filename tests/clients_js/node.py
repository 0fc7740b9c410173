"""Running the AI SDK programs of this folder (``*.mjs``) with Node against a live
Switchyard. The SDK is installed by ``scripts/install-clients-js.sh``; a missing install
fails the test (CI runs the script first), it is never a skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DIR_ENV = "SWITCHYARD_CLIENTS_JS_DIR"
TIMEOUT = float(os.environ.get("SWITCHYARD_CLIENTS_JS_TIMEOUT", "180"))
PROGRAMS = Path(__file__).parent
REQUIRED = ("ai", "@ai-sdk/openai", "@ai-sdk/anthropic", "zod")


def install_dir() -> Path:
    root = Path(os.environ.get(DIR_ENV) or Path.home() / ".cache" / "switchyard-clients-js")
    missing = [name for name in REQUIRED if not (root / "node_modules" / name / "package.json").exists()]
    if missing or shutil.which("node") is None:
        what = ", ".join(missing) if missing else "node"
        pytest.fail(f"the AI SDK is not installed in {root} (missing {what}): run "
                    f"scripts/install-clients-js.sh {root} or set {DIR_ENV}", pytrace=False)
    return root


@contextmanager
def programs() -> Iterator[Path]:
    """A copy of the programs inside the install directory, where Node resolves their imports
    (ES modules find packages next to the importing file, not the working directory)."""
    work = Path(tempfile.mkdtemp(prefix=".programs-", dir=install_dir()))
    try:
        for source in PROGRAMS.glob("*.mjs"):
            shutil.copy(source, work / source.name)
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Outcome:
    """What a program printed (its last line, a JSON object) and its stderr."""

    result: dict[str, Any]
    stderr: str

    def ok(self) -> dict[str, Any]:
        assert self.result.get("ok") is True, json.dumps(self.result, indent=1) + "\n" + self.stderr[-3000:]
        return self.result


@dataclass
class Client:
    """One AI SDK model kind (``openai-chat``, ``openai-responses``, ``openai-default``,
    ``anthropic``) pointed at a Switchyard model."""

    work: Path
    base_url: str
    key: str
    kind: str
    model: str

    def run(self, program: str, **env: str | int | bool | list[str]) -> Outcome:
        settings = {f"SY_{k.upper()}": _env_value(v) for k, v in env.items()}
        keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
        full = {**keep, "SY_BASE_URL": self.base_url, "SY_API_KEY": self.key, "SY_KIND": self.kind,
                "SY_MODEL": self.model, **settings}
        try:
            done = subprocess.run(["node", str(self.work / f"{program}.mjs")], env=full, cwd=self.work,
                                  capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{program}.mjs did not finish in {TIMEOUT}s\nstdout: {exc.stdout!r}\n"
                        f"stderr: {exc.stderr!r}", pytrace=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"{program}.mjs printed no result (exit {done.returncode})\n{done.stdout}\n{done.stderr}"
        result = json.loads(lines[-1])
        assert (done.returncode == 0) == (result.get("ok") is True), (done.returncode, result, done.stderr)
        return Outcome(result, done.stderr)


def _env_value(value: str | int | bool | list[str]) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)
