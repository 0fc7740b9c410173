"""How a canonical reasoning's ``signature`` and ``encrypted`` travel in the single
``encrypted_content`` string of a Responses ``reasoning`` item.

- only ``encrypted`` (OpenAI encrypted reasoning, Anthropic redacted thinking): verbatim;
- a ``signature`` (Anthropic thinking): ``"sig:" + signature``;
- both: ``"sig:" + signature + ";enc:" + encrypted``.

Vendor blobs are base64 (no ``:`` or ``;``), so a verbatim blob never reads as a
signature and the split is unambiguous."""

from __future__ import annotations

SIGNATURE_PREFIX = "sig:"
ENCRYPTED_SEPARATOR = ";enc:"


def pack(signature: str | None, encrypted: str | None) -> str | None:
    if not signature:
        return encrypted
    if encrypted is None:
        return SIGNATURE_PREFIX + signature
    return SIGNATURE_PREFIX + signature + ENCRYPTED_SEPARATOR + encrypted


def unpack(value: str | None) -> tuple[str | None, str | None]:
    """``encrypted_content`` as ``(signature, encrypted)``."""
    if value is None:
        return None, None
    if not value.startswith(SIGNATURE_PREFIX):
        return None, value
    rest = value[len(SIGNATURE_PREFIX):]
    signature, sep, encrypted = rest.partition(ENCRYPTED_SEPARATOR)
    return signature, encrypted if sep else None
