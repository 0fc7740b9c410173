"""What a call costs: token counts (and for audio, minutes and characters) times the
model's price, in integer nano-dollars (1e-9 USD), so that sums are exact and a price of a
few cents per million tokens still counts per token."""

from __future__ import annotations

import math
from decimal import Decimal

from switchyard.config import Price
from switchyard.core.usage import Usage

NANO_PER_USD = 10**9
_NANO_PER_TOKEN_PER_MTOK_USD = Decimal(NANO_PER_USD) / Decimal(10**6)  # 1 USD/Mtok is 1000 nano-USD/token
_MS_PER_MINUTE = Decimal(60_000)


def _nano(tokens: int, per_mtok: Decimal) -> Decimal:
    return Decimal(tokens) * per_mtok * _NANO_PER_TOKEN_PER_MTOK_USD


def cost_nanousd(price: Price, usage: Usage) -> int:
    """The cost of ``usage``; ``input_tokens`` includes the cached and cache-write ones."""
    if price.free:
        return 0
    cached_price = price.input_per_mtok if price.cached_input_per_mtok is None else price.cached_input_per_mtok
    write_price = price.input_per_mtok if price.cache_write_per_mtok is None else price.cache_write_per_mtok
    cached = min(usage.cached_input_tokens, usage.input_tokens)
    written = min(usage.cache_creation_input_tokens, usage.input_tokens - cached)
    uncached = usage.input_tokens - cached - written
    total = (_nano(uncached, price.input_per_mtok) + _nano(cached, cached_price)
             + _nano(written, write_price) + _nano(usage.output_tokens, price.output_per_mtok))
    return math.ceil(total)


def audio_nanousd(price: Price, heard_ms: int = 0, characters: int = 0, spoken_ms: int = 0) -> int:
    """The audio part of a call's cost: minutes of audio heard (transcription, translation),
    characters spoken and minutes of speech made (text to speech), each at its price."""
    if price.free:
        return 0
    total = (Decimal(heard_ms) * price.input_per_minute / _MS_PER_MINUTE
             + Decimal(characters) * price.input_per_mchar / Decimal(10**6)
             + Decimal(spoken_ms) * price.output_per_minute / _MS_PER_MINUTE) * NANO_PER_USD
    return math.ceil(total)


def image_nanousd(price: Price, images: int) -> int:
    """The per-image part of an image call's cost."""
    return 0 if price.free else math.ceil(Decimal(images) * price.output_per_image * NANO_PER_USD)


def worst_case_nanousd(price: Price, prompt_tokens: int, max_output_tokens: int) -> int:
    """The most a call can cost: every prompt token at the dearest input price, and every
    output token it may generate."""
    if price.free:
        return 0
    dearest_input = max(price.input_per_mtok, price.cached_input_per_mtok or Decimal(0),
                        price.cache_write_per_mtok or Decimal(0))
    return math.ceil(_nano(prompt_tokens, dearest_input) + _nano(max_output_tokens, price.output_per_mtok))


def usd_to_nano(usd: Decimal) -> int:
    return math.floor(usd * NANO_PER_USD)


def nano_to_usd(nano: int) -> Decimal:
    return Decimal(nano).scaleb(-9)


def format_usd(nano: int) -> str:
    """A cost as a plain decimal string, e.g. ``0.000123`` (``0`` when free)."""
    if nano == 0:
        return "0"
    return format(nano_to_usd(nano).normalize(), "f")
