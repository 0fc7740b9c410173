"""An Images API generation request checked for a vendor that is not OpenAI-compatible
(Google's Imagen and Gemini, Stability AI): the fields that vendor can honour, the others
refused with a 400 naming them (or dropped, with the model's ``drop_params``); ``auto``
values (the OpenAI defaults) always pass. OpenAI's ``size`` (``WxH``) becomes the nearest
aspect ratio the vendor offers."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

from switchyard.core.errors import invalid

log = logging.getLogger("switchyard.images")

# read by Switchyard itself, whatever the vendor
COMMON = frozenset({"prompt", "n", "size", "user", "stream", "partial_images"})


def vendor_fields(fields: Mapping[str, Any], accepted: Iterable[str], model: str, provider: str,
                  drop: bool) -> dict[str, Any]:
    """``fields`` without the ones that mean nothing here; a field the vendor cannot honour
    is a 400 naming it, or dropped (and logged) with ``drop``."""
    allowed = COMMON | frozenset(accepted)
    kept: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None or value == "auto":
            continue
        if name not in allowed:
            if drop:
                log.info("dropped '%s' for model '%s' (provider %s cannot honour it)", name, model, provider)
                continue
            raise invalid(f"'{name}' is not supported by model '{model}' (provider '{provider}'); "
                          f"it takes {', '.join(sorted(allowed - {'stream', 'partial_images'}))}.",
                          name, "unsupported_parameter")
        kept[name] = value
    if kept.get("stream") is True:
        raise invalid(f"Model '{model}' (provider '{provider}') cannot stream images; leave 'stream' unset.",
                      "stream", "unsupported_parameter")
    return kept


def count(fields: Mapping[str, Any], most: int, model: str) -> int:
    n = fields.get("n", 1)
    n = n if isinstance(n, int) and not isinstance(n, bool) else 1
    if n > most:
        raise invalid(f"'n' must be at most {most} on model '{model}'; got {n}.", "n", "invalid_value")
    return n


def _ratio(text: str) -> float:
    width, height = text.split(":")
    return int(width) / int(height)


def aspect_ratio(size: object, supported: tuple[str, ...]) -> str | None:
    """The supported ``W:H`` nearest to ``size`` (``"1536x1024"``); None when unset."""
    if size is None or size == "auto":
        return None
    if not isinstance(size, str) or size.count("x") != 1:
        raise invalid(f"'size' must be WIDTHxHEIGHT (e.g. 1024x1024) or 'auto'; got {size!r}.", "size",
                      "invalid_value")
    width, height = size.split("x")
    if not (width.isdigit() and height.isdigit()) or int(width) == 0 or int(height) == 0:
        raise invalid(f"'size' must be WIDTHxHEIGHT (e.g. 1024x1024) or 'auto'; got {size!r}.", "size",
                      "invalid_value")
    wanted = math.log(int(width) / int(height))
    return min(supported, key=lambda r: abs(math.log(_ratio(r)) - wanted))


MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
FORMATS_BY_MIME = {mime: name for name, mime in MIME_TYPES.items()}


def output_format(fields: Mapping[str, Any], offered: tuple[str, ...], model: str) -> str | None:
    value = fields.get("output_format")
    if value is None:
        return None
    if value not in offered:
        raise invalid(f"'output_format' must be one of {', '.join(offered)} on model '{model}'; got {value!r}.",
                      "output_format", "invalid_value")
    return str(value)
