"""Vendor-shaped, unguessable ids for objects that are never stored."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 29) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))
