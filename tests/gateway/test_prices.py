from __future__ import annotations

from decimal import Decimal

import pytest

from switchyard.config import Price, Settings
from switchyard.core.usage import Usage
from switchyard.gateway.prices import cost_nanousd, format_usd, usd_to_nano, worst_case_nanousd

PRICE = Price(input_per_mtok=Decimal("2.50"), cached_input_per_mtok=Decimal("1.25"),
              cache_write_per_mtok=Decimal("3.75"), output_per_mtok=Decimal("10"))


@pytest.mark.parametrize(("usage", "nano"), [
    (Usage(), 0),
    (Usage(input_tokens=1_000_000), 2_500_000_000),
    (Usage(input_tokens=1000, cached_input_tokens=400), 600 * 2500 + 400 * 1250),
    (Usage(input_tokens=1000, cached_input_tokens=400, cache_creation_input_tokens=100),
     500 * 2500 + 400 * 1250 + 100 * 3750),
    (Usage(output_tokens=3, reasoning_tokens=2), 3 * 10_000),  # reasoning tokens are output tokens
    (Usage(input_tokens=5, cached_input_tokens=9), 5 * 1250),  # a cached count past the input is capped
])
def test_cost(usage: Usage, nano: int) -> None:
    assert cost_nanousd(PRICE, usage) == nano


def test_fractions_of_a_nano_dollar_round_up() -> None:
    assert cost_nanousd(Price(input_per_mtok=Decimal("0.0001")), Usage(input_tokens=3)) == 1


def test_cached_and_cache_write_default_to_the_input_price() -> None:
    plain = Price(input_per_mtok=Decimal(1))
    assert cost_nanousd(plain, Usage(input_tokens=10, cached_input_tokens=4, cache_creation_input_tokens=3)) == 10_000


def test_worst_case_takes_the_dearest_input_price() -> None:
    assert worst_case_nanousd(PRICE, 100, 10) == 100 * 3750 + 10 * 10_000
    assert worst_case_nanousd(Price(), 10**6, 10**6) == 0


@pytest.mark.parametrize(("nano", "text"), [(0, "0"), (25_000, "0.000025"), (10**9, "1"), (1, "0.000000001"),
                                            (1_500_000_000, "1.5")])
def test_format(nano: int, text: str) -> None:
    assert format_usd(nano) == text


def test_budgets_in_usd_become_nano_dollars() -> None:
    assert usd_to_nano(Decimal("0.055")) == 55_000_000


def test_prices_and_metering_read_from_config() -> None:
    settings = Settings.model_validate({
        "models": [{"name": "m", "provider": "openai", "price": {"input_per_mtok": "0.15", "output_per_mtok": 0.6}}],
        "metering": {"flush_seconds": 1, "project_budgets_usd": {"proj_a": "12.5"}}})
    assert settings.models[0].price.input_per_mtok == Decimal("0.15")
    assert settings.metering.project_budgets_usd == {"proj_a": Decimal("12.5")}
    assert Settings().with_default_models().models[0].price.free  # the embedded model costs nothing
