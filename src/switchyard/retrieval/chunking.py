"""Token-based chunking with OpenAI's o200k encoding (the one ``providers/token_count``
uses): windows of ``max_chunk_size_tokens`` tokens, each starting
``max - overlap`` tokens after the previous one. ``auto`` is static 800 / 400, as
OpenAI documents it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard.core.errors import invalid
from switchyard.providers.token_count import _encoding

AUTO_MAX_TOKENS = 800
AUTO_OVERLAP_TOKENS = 400
MIN_MAX_TOKENS = 100
MAX_MAX_TOKENS = 4096
PARAM = "chunking_strategy"


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    tokens: int


def static_strategy(max_tokens: int = AUTO_MAX_TOKENS, overlap_tokens: int = AUTO_OVERLAP_TOKENS) -> dict[str, Any]:
    return {"type": "static", "static": {"max_chunk_size_tokens": max_tokens, "chunk_overlap_tokens": overlap_tokens}}


def _int(value: object, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"'{param}' must be an integer.", param)
    return value


def parse_chunking_strategy(strategy: object, param: str = PARAM) -> dict[str, Any]:
    """The strategy as stored and shown: always ``{"type": "static", "static": {...}}``
    (None and ``auto`` give 800 / 400). 400 naming the field when it is not valid."""
    if strategy is None:
        return static_strategy()
    if not isinstance(strategy, dict):
        raise invalid(f"'{param}' must be an object.", param)
    kind = strategy.get("type")
    if kind == "auto":
        return static_strategy()
    if kind != "static":
        raise invalid(f"'{param}.type' must be 'auto' or 'static'; got {kind!r}.", f"{param}.type")
    static = strategy.get("static")
    if not isinstance(static, dict):
        raise invalid(f"Missing required parameter: '{param}.static'.", f"{param}.static")
    max_param, overlap_param = f"{param}.static.max_chunk_size_tokens", f"{param}.static.chunk_overlap_tokens"
    if "max_chunk_size_tokens" not in static:
        raise invalid(f"Missing required parameter: '{max_param}'.", max_param)
    if "chunk_overlap_tokens" not in static:
        raise invalid(f"Missing required parameter: '{overlap_param}'.", overlap_param)
    max_tokens = _int(static["max_chunk_size_tokens"], max_param)
    overlap = _int(static["chunk_overlap_tokens"], overlap_param)
    if not MIN_MAX_TOKENS <= max_tokens <= MAX_MAX_TOKENS:
        raise invalid(f"'{max_param}' must be between {MIN_MAX_TOKENS} and {MAX_MAX_TOKENS}; got {max_tokens}.",
                      max_param)
    if overlap < 0 or overlap > max_tokens // 2:
        raise invalid(f"'{overlap_param}' must be between 0 and half of max_chunk_size_tokens ({max_tokens // 2});"
                      f" got {overlap}.", overlap_param)
    return static_strategy(max_tokens, overlap)


def _decode(tokens: list[int]) -> str:
    # A window may cut a multi-byte character in two: drop the partial bytes.
    return _encoding().decode_bytes(tokens).decode("utf-8", errors="ignore")


def chunk_text(text: str, strategy: dict[str, Any]) -> list[Chunk]:
    """``text`` cut into overlapping token windows per a parsed ``strategy``; blank
    windows are dropped."""
    static = strategy["static"]
    size, overlap = static["max_chunk_size_tokens"], static["chunk_overlap_tokens"]
    tokens = _encoding().encode_ordinary(text)
    chunks: list[Chunk] = []
    start = 0
    while start < len(tokens):
        window = tokens[start : start + size]
        piece = _decode(window).strip()
        if piece:
            chunks.append(Chunk(piece, len(window)))
        if start + size >= len(tokens):
            break
        start += size - overlap
    return chunks
