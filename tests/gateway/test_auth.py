from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.auth import MASTER_OWNER, Authenticator, presented_keys


@dataclass
class _Record:
    id: str
    owner_id: str


class _Keys:
    def __init__(self, secrets: dict[str, _Record]) -> None:
        self.by_hash = {hashlib.sha256(s.encode()).hexdigest(): r for s, r in secrets.items()}

    async def find_by_secret(self, secret: str) -> _Record | None:
        return self.by_hash.get(hashlib.sha256(secret.encode()).hexdigest())


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
    auth = Authenticator("master", _Keys({"sk-alice": _Record("key_1", "alice")}))
    master = await auth.authenticate({"authorization": "Bearer master"})
    assert master.owner_id == MASTER_OWNER and master.is_master
    alice = await auth.authenticate({"x-api-key": "sk-alice", "authorization": "Bearer junk"})
    assert (alice.owner_id, alice.key_id, alice.is_master) == ("alice", "key_1", False)


@pytest.mark.parametrize(("headers", "code"), [({}, "missing_api_key"),
                                                ({"x-api-key": "nope"}, "invalid_api_key")])
async def test_rejections_are_authentication_errors(headers: dict[str, str], code: str) -> None:
    auth = Authenticator("master", _Keys({}))
    with pytest.raises(SwitchyardError) as caught:
        await auth.authenticate(headers)
    assert caught.value.kind is ErrorKind.AUTHENTICATION and caught.value.status == 401
    assert caught.value.code == code
