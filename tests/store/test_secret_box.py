"""Sealed secrets: they open with the same server secret and row, and with nothing else."""

from __future__ import annotations

import stat

import pytest

from switchyard.store.secret_box import SecretBox, SecretBoxError, server_secret


def test_seal_and_open_round_trip_without_the_plaintext_in_the_token() -> None:
    box = SecretBox(b"server secret")
    token = box.seal({"0": {"authorization": "tok-123", "headers": {"X-Key": "k"}}}, "resp_1")
    assert "tok-123" not in token and "X-Key" not in token
    assert box.open(token, "resp_1") == {"0": {"authorization": "tok-123", "headers": {"X-Key": "k"}}}
    assert box.seal("same", "resp_1") != box.seal("same", "resp_1")  # a fresh nonce each time


def test_another_row_or_another_secret_cannot_open_it() -> None:
    token = SecretBox(b"server secret").seal("tok", "resp_1")
    with pytest.raises(SecretBoxError):
        SecretBox(b"server secret").open(token, "resp_2")
    with pytest.raises(SecretBoxError):
        SecretBox(b"another secret").open(token, "resp_1")
    with pytest.raises(SecretBoxError):
        SecretBox(b"server secret").open(token[:-4] + "AAAA", "resp_1")


def test_the_server_secret_is_made_once_private_and_kept(tmp_path) -> None:
    first = server_secret(tmp_path)
    assert len(first) >= 32 and server_secret(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert server_secret(tmp_path, "configured") == b"configured"
