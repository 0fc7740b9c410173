from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.auth import (
    DEFAULT_PROJECT,
    Authenticator,
    Principal,
    presented_keys,
    require_admin,
    require_api_access,
    require_model,
)
from switchyard.gateway.client_ip import ClientAddress
from switchyard.gateway.grants import KeyGrant, Limits, ProjectGrant


class _Directory:
    def __init__(self, keys: dict[str, KeyGrant], projects: list[ProjectGrant]) -> None:
        self.by_hash = {hashlib.sha256(s.encode()).hexdigest(): g for s, g in keys.items()}
        self.projects = {p.id: p for p in projects}

    async def key_grant(self, secret: str) -> KeyGrant | None:
        return self.by_hash.get(hashlib.sha256(secret.encode()).hexdigest())

    async def project_grant(self, project_id: str) -> ProjectGrant | None:
        return self.projects.get(project_id)


ALPHA = ProjectGrant("proj_alpha", limits=Limits(10, 1000, 2), budget_usd=None,
                     model_limits=MappingProxyType({"gpt-x": Limits(5, 50, None)}),
                     allowed_models=("gpt-*",))
PROJECTS = [ProjectGrant(DEFAULT_PROJECT), ALPHA, ProjectGrant("proj_old", archived=True)]


def _auth(**keys: KeyGrant) -> Authenticator:
    return Authenticator("master", _Directory(keys, PROJECTS))


@pytest.mark.parametrize(("headers", "expected"), [
    ({"authorization": "Bearer abc"}, ["abc"]),
    ({"authorization": "bearer  abc "}, ["abc"]),
    ({"x-api-key": "xyz"}, ["xyz"]),
    ({"authorization": "Bearer abc", "x-api-key": "xyz"}, ["abc", "xyz"]),
    ({"authorization": "Bearer abc", "x-api-key": "abc"}, ["abc"]),
    ({"authorization": "Basic abc"}, []),
    ({}, []),
])
def test_presented_keys(headers: dict[str, str], expected: list[str]) -> None:
    assert presented_keys(headers) == expected


async def test_master_key_and_stored_keys() -> None:
    auth = _auth(**{"sk-alice": KeyGrant("key_1", "project", "proj_alpha", limits=Limits(1, 2, 3))})
    master = await auth.authenticate({"authorization": "Bearer master"})
    assert master.owner_id == DEFAULT_PROJECT and master.is_master and master.role == "owner"
    alice = await auth.authenticate({"x-api-key": "sk-alice", "authorization": "Bearer junk"})
    assert (alice.owner_id, alice.key_id, alice.is_master, alice.role) == ("proj_alpha", "key_1", False, "project")
    assert alice.key_limits == Limits(1, 2, 3) and alice.project_limits == Limits(10, 1000, 2)
    assert alice.project_model_limits["gpt-x"] == Limits(5, 50, None)
    assert alice.project_allowed_models == ("gpt-*",)


async def test_master_key_acts_in_the_project_header_names() -> None:
    auth = _auth()
    in_alpha = await auth.authenticate({"authorization": "Bearer master", "openai-project": "proj_alpha"})
    assert in_alpha.project_id == "proj_alpha" and in_alpha.role == "owner"
    assert in_alpha.project_limits == Limits(10, 1000, 2)
    for missing in ("proj_nope", "proj_old"):
        with pytest.raises(SwitchyardError) as caught:
            await auth.authenticate({"authorization": "Bearer master", "openai-project": missing})
        assert caught.value.status == 401 and caught.value.code == "invalid_project"


@pytest.mark.parametrize(("grant", "headers", "ip", "status", "code"), [
    (KeyGrant("k", "project", "proj_alpha", enabled=False), {}, None, 401, "api_key_disabled"),
    (KeyGrant("k", "project", "proj_alpha", expires_at=datetime.now(UTC) - timedelta(seconds=1)), {}, None,
     401, "api_key_expired"),
    (KeyGrant("k", "project", "proj_alpha", allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),)), {},
     "192.168.1.1", 403, "ip_not_allowed"),
    (KeyGrant("k", "project", "proj_alpha", allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),)), {},
     None, 403, "ip_not_allowed"),
    (KeyGrant("k", "project", "proj_old"), {}, None, 401, "invalid_api_key"),
    (KeyGrant("k", "project", "proj_alpha"), {"openai-project": DEFAULT_PROJECT}, None, 401,
     "mismatched_project"),
])
async def test_refused_keys(grant: KeyGrant, headers: dict[str, str], ip: str | None, status: int,
                            code: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        await _auth(**{"sk-k": grant}).authenticate({"x-api-key": "sk-k", **headers}, ip)
    assert (caught.value.status, caught.value.code) == (status, code)


async def test_allowed_address_and_future_expiry_pass() -> None:
    grant = KeyGrant("k", "project", "proj_alpha", expires_at=datetime.now(UTC) + timedelta(hours=1),
                     allowed_networks=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")))
    auth = _auth(**{"sk-k": grant})
    assert (await auth.authenticate({"x-api-key": "sk-k"}, "10.2.3.4")).key_id == "k"
    assert (await auth.authenticate({"x-api-key": "sk-k"}, "::ffff:10.2.3.4")).key_id == "k"
    assert (await auth.authenticate({"x-api-key": "sk-k"}, "::1")).key_id == "k"


async def test_admin_keys_manage_but_do_not_call_models() -> None:
    admin = await _auth(**{"sk-adm": KeyGrant("key_a", "admin", "organization")}).authenticate(
        {"x-api-key": "sk-adm"})
    assert admin.role == "admin" and not admin.is_master
    require_admin(admin)
    with pytest.raises(SwitchyardError) as caught:
        require_api_access(admin)
    assert caught.value.status == 403
    with pytest.raises(SwitchyardError) as caught:
        require_admin(Principal("proj_alpha", key_id="k"))
    assert caught.value.status == 403 and caught.value.code == "insufficient_permissions"


def test_model_allowlists() -> None:
    both = Principal("p", allowed_models=("gpt-4o", "local-*"), project_allowed_models=("gpt-4o", "local-a"))
    assert both.may_use_model("gpt-4o") and both.may_use_model("local-a")
    assert not both.may_use_model("local-b")  # the project's list refuses it
    assert not both.may_use_model("claude")
    assert both.may_use_model("alias-x", "gpt-4o")  # an alias resolving to an allowed model
    denied = Principal("p", project_denied_models=("big-*",))
    assert denied.may_use_model("small") and not denied.may_use_model("big-1")
    with pytest.raises(SwitchyardError) as caught:
        require_model(denied, "big-1")
    assert (caught.value.status, caught.value.param, caught.value.code) == (403, "model", "model_not_found")


@pytest.mark.parametrize("missing", [{}, {"x-api-key": ""}])
async def test_missing_key(missing: dict[str, str]) -> None:
    with pytest.raises(SwitchyardError) as caught:
        await _auth().authenticate(missing)
    assert caught.value.kind is ErrorKind.AUTHENTICATION and caught.value.code == "missing_api_key"


async def test_unknown_key() -> None:
    with pytest.raises(SwitchyardError) as caught:
        await _auth().authenticate({"x-api-key": "nope"})
    assert caught.value.kind is ErrorKind.AUTHENTICATION and caught.value.status == 401
    assert caught.value.code == "invalid_api_key"


def test_client_address_behind_trusted_proxies() -> None:
    direct = ClientAddress()
    assert direct.resolve("1.2.3.4", {"x-forwarded-for": "9.9.9.9"}) == "1.2.3.4"
    proxied = ClientAddress(["10.0.0.0/8"])
    assert proxied.resolve("10.0.0.1", {"x-forwarded-for": "9.9.9.9, 10.0.0.7"}) == "9.9.9.9"
    assert proxied.resolve("8.8.8.8", {"x-forwarded-for": "9.9.9.9"}) == "8.8.8.8"  # not a proxy
    assert proxied.resolve("10.0.0.1", {}) == "10.0.0.1"
