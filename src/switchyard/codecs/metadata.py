"""``metadata``, as every OpenAI object that has one takes it: at most 16 pairs of
strings, keys of at most 64 characters, values of at most 512, and no NUL
characters (stored keys and values are text)."""

from __future__ import annotations

from switchyard.codecs.openai_chat.fields import obj, wrong_type
from switchyard.core.errors import invalid

MAX_PAIRS = 16
MAX_KEY = 64
MAX_VALUE = 512


def decode_metadata(raw: object, path: str = "metadata") -> dict[str, str] | None:
    """The validated pairs; ``None`` when ``raw`` is null."""
    if raw is None:
        return None
    meta = obj(raw, path)
    if len(meta) > MAX_PAIRS:
        raise invalid(f"Invalid '{path}': too many properties. Expected at most {MAX_PAIRS}.", path,
                      "object_above_max_properties")
    for key, value in meta.items():
        if len(key) > MAX_KEY or "\x00" in key:
            raise invalid(f"Invalid '{path}': keys are strings of at most {MAX_KEY} characters, without NUL.",
                          path, "invalid_value")
        if not isinstance(value, str):
            raise wrong_type(f"{path}.{key}", "a string", value)
        if len(value) > MAX_VALUE:
            raise invalid(f"Invalid '{path}.{key}': values are at most {MAX_VALUE} characters.", f"{path}.{key}",
                          "string_above_max_length")
        if "\x00" in value:
            raise invalid(f"Invalid '{path}.{key}': text must not contain NUL characters (\\u0000).",
                          f"{path}.{key}", "invalid_value")
    return dict(meta)
