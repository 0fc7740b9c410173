from __future__ import annotations

import re

import pytest

from switchyard.store.ids import new_id


@pytest.mark.parametrize("prefix", ["resp_", "file-", "chatcmpl-", "key_"])
def test_new_id_shape(prefix: str) -> None:
    value = new_id(prefix)
    assert re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9]{24}", value)


def test_new_ids_are_distinct() -> None:
    assert len({new_id("x_") for _ in range(10_000)}) == 10_000


def test_short_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        new_id("x_", length=8)
