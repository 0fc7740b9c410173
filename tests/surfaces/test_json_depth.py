"""The nesting ceiling on request bodies."""

from __future__ import annotations

import orjson
import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.surfaces.json_depth import MAX_DEPTH, check_depth


def _lists(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


def test_bodies_up_to_the_ceiling_pass() -> None:
    check_depth({"a": _lists(MAX_DEPTH - 1)})  # the body itself is one level


def test_one_level_more_is_refused_naming_where() -> None:
    with pytest.raises(SwitchyardError) as caught:
        check_depth({"ok": 1, "tools": [{"parameters": {"properties": _lists(MAX_DEPTH)}}]})
    assert caught.value.status == 400
    assert caught.value.param == "tools[0].parameters.properties"


def test_very_deep_bodies_are_refused_too() -> None:
    with pytest.raises(SwitchyardError) as caught:
        check_depth({"input": _lists(1000)})
    assert caught.value.param == "input[0][0][0]"


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, MAX_DEPTH, 1000])
def test_the_raw_text_shortcut_agrees_with_the_full_check(levels: int) -> None:
    raw = b'{"input": ' + b"[" * levels + b"1" + b"]" * levels + b"}"
    body = orjson.loads(raw)
    if levels < MAX_DEPTH:
        check_depth(body, raw)
        return
    with pytest.raises(SwitchyardError) as caught:
        check_depth(body, raw)
    assert caught.value.param is not None and caught.value.param.startswith("input[0]")


def test_brackets_inside_strings_only_cost_the_full_check() -> None:
    body = {"text": "[" * (MAX_DEPTH * 2)}
    check_depth(body, b'{"text": "' + b"[" * (MAX_DEPTH * 2) + b'"}')
