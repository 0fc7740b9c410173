from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchyard.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_help_lists_the_commands() -> None:
    out = _run("--help")
    assert out.returncode == 0
    assert "serve" in out.stdout and "models" in out.stdout


def test_models_lists_the_config(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"models": [
        {"name": "gpt", "provider": "openai", "base_url": "http://up/v1", "model": "gpt-4.1"},
        {"name": "local", "provider": "local"}]}))
    out = _run("models", "--config", str(config))
    assert out.returncode == 0
    lines = [line.split("\t") for line in out.stdout.strip().splitlines()]
    assert lines == [["gpt", "openai", "gpt-4.1", "http://up/v1"], ["local", "local", "local", "embedded"]]


def test_models_defaults_to_the_embedded_model(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k != "SWITCHYARD_CONFIG"}
    out = _run("models", env=env)
    assert out.returncode == 0 and "\tlocal\t" in out.stdout


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"models": [{"name": "x", "provider": "nope"}]}))
    out = _run("models", "--config", str(config))
    assert out.returncode == 2
    assert "invalid config" in out.stderr and "provider" in out.stderr


def test_models_lists_each_deployment_of_a_model_list(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"model_list": [
        {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o", "api_base": "http://east/v1", "order": 1},
         "model_info": {"id": "east"}},
        {"model_name": "gpt", "litellm_params": {"model": "anthropic/claude-x", "api_base": "http://west",
                                                 "weight": 2, "order": 2}}]}))
    out = _run("models", "--config", str(config))
    assert out.returncode == 0, out.stderr
    lines = [line.split("\t") for line in out.stdout.strip().splitlines()]
    assert lines == [["gpt", "openai", "gpt-4o", "http://east/v1", "east (priority 1, weight 1)"],
                     ["gpt", "anthropic", "claude-x", "http://west", "gpt:1 (priority 2, weight 2)"]]
