"""Claude Code and Codex CLI through Switchyard, each on a model of the other vendor's
format (a full tool round trip) and on the embedded model. Codex sends hosted tools
(``web_search``, ``tool_search``) no backend here runs, and Claude Code asks the embedded
model for reasoning effort: those runs use models with ``drop_params``.

Needs the agents installed by ``scripts/install-agents.sh`` (``SWITCHYARD_AGENTS_DIR``);
installs nothing itself."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.agents import agents_bin, claude_env, codex_env, run
from tests.conftest import LOCAL, VIA_ANTHROPIC, VIA_OPENAI
from tests.fakes import anthropic_wire, openai_wire
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.agents]


@pytest.fixture
def bin_dir() -> Path:
    return agents_bin()


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path, str]:
    """A home directory, a project directory and a file in it holding a random token."""
    home, work = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    work.mkdir()
    token = f"TOKEN-{secrets.token_hex(8)}"
    (work / "note.txt").write_text(token + "\n")
    return home, work, token


def _tool_results(body: dict) -> str:
    return json.dumps(body.get("messages") or body.get("input") or [])


def test_claude_code_reads_a_file_on_an_openai_compatible_model(
    server: LiveServer, fake_openai: FakeUpstream, bin_dir: Path, project: tuple[Path, Path, str]
) -> None:
    home, work, token = project
    args = json.dumps({"file_path": str(work / "note.txt")})
    fake_openai.script(
        openai_wire.stream([], tool_calls=[("call_read_1", "Read", [args[:12], args[12:]])]),
        openai_wire.stream(["The file says ", token, "."]),
    )
    done = run([str(bin_dir / "claude"), "-p", "What does note.txt say?"], work,
               claude_env(home, server.url, MASTER_KEY, VIA_OPENAI))
    assert done.returncode == 0, done
    turns = [r for r in fake_openai.received if r.path.endswith("/chat/completions")]
    assert len(turns) == 2, [r.path for r in fake_openai.received]
    first, second = (t.body for t in turns)
    assert "Read" in {t["function"]["name"] for t in first["tools"]}
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_read_1"]
    assert token in json.dumps(tool_messages[0]["content"])
    assert token in done.stdout


def test_codex_runs_a_shell_command_on_an_anthropic_model(
    lenient_server: LiveServer, fake_anthropic: FakeUpstream, bin_dir: Path, project: tuple[Path, Path, str]
) -> None:
    home, work, token = project
    fake_anthropic.script(
        anthropic_wire.stream([anthropic_wire.tool_use("toolu_shell_1", "exec_command", {"cmd": "cat note.txt"})],
                              stop_reason="tool_use"),
        anthropic_wire.stream([anthropic_wire.text(f"The file says {token}.")]),
    )
    done = run([str(bin_dir / "codex"), "exec", "--skip-git-repo-check", "What does note.txt say?"], work,
               codex_env(home, lenient_server.url, MASTER_KEY, VIA_ANTHROPIC))
    assert done.returncode == 0, done
    turns = [r for r in fake_anthropic.received if r.path.endswith("/v1/messages")]
    assert len(turns) == 2, [r.path for r in fake_anthropic.received]
    first, second = (t.body for t in turns)
    assert "exec_command" in {t["name"] for t in first["tools"]}
    results = [b for m in second["messages"] if m["role"] == "user" and isinstance(m["content"], list)
               for b in m["content"] if b.get("type") == "tool_result"]
    assert [b["tool_use_id"] for b in results] == ["toolu_shell_1"]
    assert token in json.dumps(results[0]["content"])
    assert token in done.stdout


def test_codex_runs_a_shell_command_on_an_openai_compatible_chat_model(
    lenient_server: LiveServer, fake_openai: FakeUpstream, bin_dir: Path, project: tuple[Path, Path, str]
) -> None:
    home, work, token = project
    args = json.dumps({"cmd": "cat note.txt"})
    fake_openai.script(
        openai_wire.stream([], tool_calls=[("call_shell_1", "exec_command", [args[:10], args[10:]])]),
        openai_wire.stream([f"The file says {token}."]),
    )
    done = run([str(bin_dir / "codex"), "exec", "--skip-git-repo-check", "What does note.txt say?"], work,
               codex_env(home, lenient_server.url, MASTER_KEY, VIA_OPENAI))
    assert done.returncode == 0, done
    turns = [r for r in fake_openai.received if r.path.endswith("/chat/completions")]
    assert len(turns) == 2, [r.path for r in fake_openai.received]
    second = turns[1].body
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_shell_1"]
    assert token in json.dumps(tool_messages[0]["content"])
    assert token in done.stdout


def test_claude_code_reads_a_file_on_an_anthropic_model(
    server: LiveServer, fake_anthropic: FakeUpstream, bin_dir: Path, project: tuple[Path, Path, str]
) -> None:
    home, work, token = project
    fake_anthropic.script(
        anthropic_wire.stream([anthropic_wire.tool_use("toolu_read_1", "Read", {"file_path": str(work / "note.txt")})],
                              stop_reason="tool_use"),
        anthropic_wire.stream([anthropic_wire.text(f"The file says {token}.")]),
    )
    done = run([str(bin_dir / "claude"), "-p", "What does note.txt say?"], work,
               claude_env(home, server.url, MASTER_KEY, VIA_ANTHROPIC))
    assert done.returncode == 0, done
    turns = [r for r in fake_anthropic.received if r.path.endswith("/v1/messages")]
    assert len(turns) == 2, [r.path for r in fake_anthropic.received]
    results = [b for m in turns[1].body["messages"] if m["role"] == "user" and isinstance(m["content"], list)
               for b in m["content"] if b.get("type") == "tool_result"]
    assert [b["tool_use_id"] for b in results] == ["toolu_read_1"]
    assert token in json.dumps(results[0]["content"])
    assert token in done.stdout


# On the embedded model: even with its system prompt replaced and its tools narrowed, an
# agent's request (system reminders, environment, tool schemas) is over the 4k context of
# the session server's embedded model, so these runs use their own server with a 16k
# context. What is checked is the protocol (request accepted, stream understood, clean
# exit), not the 0.5B model's answer.


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[LiveServer]:
    models = [{"name": LOCAL, "provider": "local", "path": str(model_path), "context_length": 16384,
               "drop_params": True}]
    live = LiveServer(tmp_path_factory.mktemp("agents-local"), models, stream_keepalive_seconds=1.0)
    live.start(wait_ready=True)
    yield live
    live.stop()


def test_claude_code_on_the_embedded_model(local_server: LiveServer, bin_dir: Path,
                                           project: tuple[Path, Path, str]) -> None:
    home, work, _ = project
    env = {**claude_env(home, local_server.url, MASTER_KEY, LOCAL), "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "256"}
    done = run([str(bin_dir / "claude"), "-p", "Say hello in one word.", "--system-prompt", "You are terse.",
                "--tools", "Read"], work, env)
    assert done.returncode == 0, done
    assert done.stdout.strip(), done


def test_codex_on_the_embedded_model(local_server: LiveServer, bin_dir: Path,
                                     project: tuple[Path, Path, str]) -> None:
    home, work, _ = project
    instructions = home / "instructions.md"
    instructions.write_text("You are terse.\n")
    done = run([str(bin_dir / "codex"), "exec", "--skip-git-repo-check", "-c",
                f"model_instructions_file={json.dumps(str(instructions))}", "Say hello in one word."], work,
               codex_env(home, local_server.url, MASTER_KEY, LOCAL))
    assert done.returncode == 0, done
