from __future__ import annotations

import string

import pytest

from switchyard.surfaces.ids import random_id


@pytest.mark.parametrize(("prefix", "length"), [("chatcmpl-", 29), ("msg_", 24), ("cmpl-", 29), ("x", 1)])
def test_prefix_length_and_alphabet(prefix: str, length: int) -> None:
    value = random_id(prefix) if length == 29 else random_id(prefix, length)
    assert value.startswith(prefix) and len(value) == len(prefix) + length
    assert set(value[len(prefix):]) <= set(string.ascii_letters + string.digits)


def test_ids_do_not_repeat_and_use_the_whole_alphabet() -> None:
    ids = [random_id("", 29) for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert set("".join(ids)) == set(string.ascii_letters + string.digits)
    assert {i[0] for i in ids} >= set("aAzZ09") and {i[-1] for i in ids} >= set("aAzZ09")
