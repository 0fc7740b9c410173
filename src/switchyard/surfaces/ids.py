"""Vendor-shaped, unguessable ids for objects that are never stored."""

from __future__ import annotations

import secrets


def random_id(prefix: str, length: int = 29) -> str:
    """``prefix`` and ``length`` characters from [A-Za-z0-9], each uniform (base64url
    with ``-`` and ``_`` dropped): 5.95 random bits a character, 172 at the default."""
    while True:
        chars = secrets.token_urlsafe(length + 8).replace("-", "").replace("_", "")
        if len(chars) >= length:
            return prefix + chars[:length]
