"""``switchyard projects`` and ``switchyard keys`` work on the configured database;
a key made there authenticates against the running server."""

from __future__ import annotations

import os
import subprocess
import sys

import openai
import pytest

from tests.conftest import VIA_OPENAI
from tests.server import LiveServer, sdk


def _cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWITCHYARD_DATA_DIR": str(server.workdir / "data")}
    return subprocess.run([sys.executable, "-m", "switchyard.cli", *args, "--config", str(server.config_path)],
                          capture_output=True, text=True, timeout=60, env=env)


def _ok(server: LiveServer, *args: str) -> str:
    result = _cli(server, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_projects_and_keys_from_the_command_line(org_server: LiveServer) -> None:
    project = _ok(org_server, "projects", "create", "From the CLI")
    assert project.startswith("proj_")
    assert f"{project}\tFrom the CLI\tactive" in _ok(org_server, "projects", "list").splitlines()

    key_id, secret = _ok(org_server, "keys", "create", "--project", project, "--name", "cli key",
                         "--expires-in", "30d", "--models", f"{VIA_OPENAI},embed-*", "--rpm", "60").split("\t")
    assert key_id.startswith("key_") and secret.startswith("sk-sy-")
    listed = _ok(org_server, "keys", "list", "--project", project)
    (line,) = listed.splitlines()
    assert line.startswith(f"{key_id}\t{project}\tcli key\t{secret[:10]}****\tenabled\texpires=20")
    assert line.endswith(f"models={VIA_OPENAI},embed-*") and secret not in listed
    assert {m.id for m in sdk(org_server, secret).models.list()} == {VIA_OPENAI}  # the allowlist holds

    assert _ok(org_server, "keys", "revoke", key_id) == key_id
    assert _ok(org_server, "keys", "list", "--project", project) == ""
    revoked_again = _cli(org_server, "keys", "revoke", key_id)
    assert revoked_again.returncode == 1 and key_id in revoked_again.stderr

    assert _ok(org_server, "projects", "archive", project) == project
    assert project not in _ok(org_server, "projects", "list")
    assert f"{project}\tFrom the CLI\tarchived" in _ok(org_server, "projects", "list", "--all").splitlines()


def test_cli_refusals_are_clear(org_server: LiveServer) -> None:
    missing = _cli(org_server, "keys", "create", "--project", "proj_nope")
    assert missing.returncode == 1 and "proj_nope" in missing.stderr
    bad = _cli(org_server, "keys", "create", "--project", "proj_default", "--expires-in", "soon")
    assert bad.returncode == 2 and "duration" in bad.stderr
    default = _cli(org_server, "projects", "archive", "proj_default")
    assert default.returncode == 1 and "default project" in default.stderr


def test_a_cli_key_in_the_default_project_sees_the_owners_objects(org_server: LiveServer) -> None:
    conversation = sdk(org_server).conversations.create(metadata={"who": "owner"})
    _, secret = _ok(org_server, "keys", "create", "--project", "proj_default").split("\t")
    assert sdk(org_server, secret).conversations.retrieve(conversation.id).metadata == {"who": "owner"}
    with pytest.raises(openai.NotFoundError):
        sdk(org_server, secret).conversations.retrieve("conv_nope")
