"""Unguessable, vendor-shaped object ids (``resp_…``, ``file-…``, ``key_…``)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
DEFAULT_LENGTH = 24  # 24 base62 chars ≈ 143 bits of randomness


def new_id(prefix: str, length: int = DEFAULT_LENGTH) -> str:
    """``prefix`` followed by ``length`` random base62 characters, e.g. ``new_id("resp_")``.

    The prefix is used as given, separator included, since vendors differ
    (``resp_…`` vs ``file-…`` vs ``chatcmpl-…``)."""
    if length < 16:
        raise ValueError("id length below 16 is guessable")
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))
