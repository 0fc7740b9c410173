"""Moderation and Images answers as OpenAI sends them (shapes from the API reference),
for scripting the fake upstream, and a tiny real PNG to send and receive."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

from tests.fakes.upstream import Reply, Stream

CREATED = 1_700_000_000
CATEGORIES = {  # OpenAI's omni-moderation categories and the input types each may apply to
    "harassment": ["text"], "harassment/threatening": ["text"], "hate": ["text"], "hate/threatening": ["text"],
    "illicit": ["text"], "illicit/violent": ["text"], "self-harm": ["text", "image"],
    "self-harm/intent": ["text", "image"], "self-harm/instructions": ["text", "image"],
    "sexual": ["text", "image"], "sexual/minors": ["text"], "violence": ["text", "image"],
    "violence/graphic": ["text", "image"],
}


def png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    """A valid RGB PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def moderation_result(scores: dict[str, float], applied: list[str] | None = None) -> dict[str, Any]:
    return {
        "flagged": any(v >= 0.5 for v in scores.values()),
        "categories": {c: scores.get(c, 0.0) >= 0.5 for c in CATEGORIES},
        "category_scores": {c: scores.get(c, 1e-6) for c in CATEGORIES},
        "category_applied_input_types": {
            c: [t for t in (applied or ["text"]) if t in types] for c, types in CATEGORIES.items()},
    }


def moderation(*results: dict[str, Any], model: str = "omni-moderation-2024-09-26") -> Reply:
    return Reply({"id": "modr-upstream1", "model": model, "results": list(results)})


def gpt_image_usage() -> dict[str, Any]:
    return {"input_tokens": 50, "input_tokens_details": {"image_tokens": 40, "text_tokens": 10},
            "output_tokens": 272, "total_tokens": 322}


def images_b64(*images: bytes) -> Reply:
    """A GPT image model's answer: base64 only, with its settings and usage."""
    return Reply({"created": CREATED, "background": "opaque", "output_format": "png", "quality": "low",
                  "size": "1024x1024", "data": [{"b64_json": base64.b64encode(i).decode()} for i in images],
                  "usage": gpt_image_usage()})


def images_url(*urls: str, revised_prompt: str | None = None) -> Reply:
    """A DALL·E answer by URL (the URLs point at the fake itself)."""
    data = [{"url": u, **({"revised_prompt": revised_prompt} if revised_prompt else {})} for u in urls]
    return Reply({"created": CREATED, "data": data})


def image_stream(prefix: str, partials: list[bytes], final: bytes) -> Stream:
    """``image_generation`` or ``image_edit`` partial images, then the completed image."""
    common = {"created_at": CREATED, "size": "1024x1024", "quality": "low", "background": "opaque",
              "output_format": "png"}
    frames: list[tuple[str | None, Any]] = [
        (f"{prefix}.partial_image", {"type": f"{prefix}.partial_image", "b64_json": base64.b64encode(p).decode(),
                                      "partial_image_index": i, **common})
        for i, p in enumerate(partials)]
    frames.append((f"{prefix}.completed", {"type": f"{prefix}.completed", "b64_json": base64.b64encode(final).decode(),
                                           "usage": gpt_image_usage(), **common}))
    return Stream(frames)
