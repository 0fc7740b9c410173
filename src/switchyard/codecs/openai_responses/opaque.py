"""How a canonical reasoning's ``signature`` and ``encrypted`` travel in the single
``encrypted_content`` string of a Responses ``reasoning`` item.

- only ``encrypted`` (OpenAI encrypted reasoning, Anthropic redacted thinking): verbatim;
- a ``signature`` (Anthropic thinking): ``"sig:" + signature``;
- both: ``"sig:" + signature + ";enc:" + encrypted``;
- with the signed ``text`` too (``pack(..., text=...)``; for clients that do not send
  ``content`` back, such as Codex with ``store: false``): ``";txt:" + base64(text)``
  right after the signature.

Vendor blobs are base64 (no ``:`` or ``;``), so a verbatim blob never reads as a
signature and the split is unambiguous."""

from __future__ import annotations

import base64
import binascii

SIGNATURE_PREFIX = "sig:"
ENCRYPTED_SEPARATOR = ";enc:"
TEXT_SEPARATOR = ";txt:"


def pack(signature: str | None, encrypted: str | None, text: str | None = None) -> str | None:
    if not signature:
        return encrypted
    packed = SIGNATURE_PREFIX + signature
    if text:
        packed += TEXT_SEPARATOR + base64.b64encode(text.encode()).decode()
    if encrypted is not None:
        packed += ENCRYPTED_SEPARATOR + encrypted
    return packed


def unpack(value: str | None) -> tuple[str | None, str | None]:
    """``encrypted_content`` as ``(signature, encrypted)``."""
    signature, encrypted, _text = unpack_text(value)
    return signature, encrypted


def unpack_text(value: str | None) -> tuple[str | None, str | None, str | None]:
    """``encrypted_content`` as ``(signature, encrypted, text)``."""
    if value is None:
        return None, None, None
    if not value.startswith(SIGNATURE_PREFIX):
        return None, value, None
    rest = value[len(SIGNATURE_PREFIX):]
    head, sep, encrypted = rest.partition(ENCRYPTED_SEPARATOR)
    signature, has_text, packed_text = head.partition(TEXT_SEPARATOR)
    text = None
    if has_text:
        try:
            text = base64.b64decode(packed_text, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            signature, text = head, None
    return signature, encrypted if sep else None, text
