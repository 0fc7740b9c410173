"""Compaction items: a summary of earlier conversation, made by
``/v1/responses/compact``. Ours carry the summary in ``encrypted_content`` as
``"sy-compact:" + base64(utf-8 text)``; a vendor's opaque blob (from another
server) cannot be read here and is left out of the model's context."""

from __future__ import annotations

import base64
import binascii

PREFIX = "sy-compact:"
SUMMARY_HEADER = "Summary of the conversation so far:\n"


def pack_summary(summary: str) -> str:
    return PREFIX + base64.b64encode(summary.encode()).decode()


def unpack_summary(encrypted_content: str | None) -> str | None:
    if not encrypted_content or not encrypted_content.startswith(PREFIX):
        return None
    try:
        return base64.b64decode(encrypted_content[len(PREFIX):], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
