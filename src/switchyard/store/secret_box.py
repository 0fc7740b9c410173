"""Encryption at rest for the few secrets a stored row must keep (a queued
background response's MCP ``headers`` / ``authorization``, needed when it runs).

AES-256-GCM with a key derived (HKDF-SHA256) from the server secret: the
``secret_key`` setting when given (every process of one deployment must share
it), else a random secret kept in the data directory beside the master key,
made on first start (mode 0600). A sealed value is bound to the row it belongs
to (its id is the associated data), so it cannot be moved to another row."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_FILE = "secret_key"
_INFO = b"switchyard stored secrets v1"
_NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A sealed value that does not open: another server secret, or tampering."""


def server_secret(data_dir: Path, configured: str | None = None) -> bytes:
    if configured:
        return configured.encode()
    path = Path(data_dir) / SECRET_FILE
    if path.exists():
        return path.read_bytes().strip()
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret + b"\n")
    return secret


class SecretBox:
    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, value: Any, bound_to: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, orjson.dumps(value), bound_to.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, bound_to: str) -> Any:
        try:
            raw = base64.urlsafe_b64decode(token.encode())
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to.encode())
        except (InvalidTag, ValueError) as exc:
            raise SecretBoxError("a stored secret does not open with this server's secret") from exc
        return orjson.loads(plain)
