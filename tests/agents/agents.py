"""Running Claude Code and Codex CLI (installed by ``scripts/install-agents.sh``) against
a live Switchyard, with the environment and config documented in docs/agents.md."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

AGENTS_DIR_ENV = "SWITCHYARD_AGENTS_DIR"
TIMEOUT = float(os.environ.get("SWITCHYARD_AGENTS_TIMEOUT", "240"))


def agents_bin() -> Path:
    """The agents' ``node_modules/.bin``; a missing install fails the test (CI must run
    ``scripts/install-agents.sh`` first), it is never a skip."""
    root = Path(os.environ.get(AGENTS_DIR_ENV) or Path.home() / ".cache" / "switchyard-agents")
    bin_dir = root / "node_modules" / ".bin"
    missing = [name for name in ("claude", "codex") if not (bin_dir / name).exists()]
    if missing:
        pytest.fail(f"coding agents not installed in {root} (missing {', '.join(missing)}): run "
                    f"scripts/install-agents.sh {root} or set {AGENTS_DIR_ENV}", pytrace=False)
    return bin_dir


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> Run:
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{Path(cmd[0]).name} did not finish in {TIMEOUT}s\nstdout: {exc.stdout!r}\n"
                    f"stderr: {exc.stderr!r}", pytrace=False)
    return Run(done.returncode, done.stdout, done.stderr)


def claude_env(home: Path, base_url: str, key: str, model: str) -> dict[str, str]:
    return {
        **_base_env(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": key,
        "ANTHROPIC_MODEL": model,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
    }


# Codex's own shell sandbox is off: with Debian's bubblewrap installed (the code interpreter
# needs it) Codex tries bwrap, which cannot start inside this CI container; the commands
# run in a throwaway directory either way.
CODEX_CONFIG = """model = "{model}"
model_provider = "switchyard"
check_for_update_on_startup = false
sandbox_mode = "danger-full-access"

[model_providers.switchyard]
name = "Switchyard"
base_url = "{base_url}/v1"
env_key = "SWITCHYARD_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false
"""


def codex_env(home: Path, base_url: str, key: str, model: str) -> dict[str, str]:
    codex_home = home / "codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(CODEX_CONFIG.format(model=model, base_url=base_url))
    return {**_base_env(home), "CODEX_HOME": str(codex_home), "SWITCHYARD_API_KEY": key}


def _base_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, "HOME": str(home)}
