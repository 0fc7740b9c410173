"""What the moderation guardrail screens: the latest user turn only."""

from __future__ import annotations

import pytest

from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart, text_message
from switchyard.core.request import Request
from switchyard.gateway.guardrail import latest_user_texts


@pytest.mark.parametrize(
    ("items", "screened"),
    [
        ([text_message("user", "hi")], ["hi"]),
        ([text_message("system", "be nice"), text_message("user", "a"), text_message("user", "b")], ["a", "b"]),
        ([text_message("user", "old"), text_message("assistant", "ok"), text_message("user", "new")], ["new"]),
        ([text_message("user", "q"), FunctionCall("c1", "f", "{}"), FunctionCallOutput("c1", [TextPart("out")])], []),
        ([text_message("user", "   ")], []),
        ([], []),
    ],
)
def test_latest_user_turn(items: list[Item], screened: list[str]) -> None:
    assert latest_user_texts(Request(model="m", items=items)) == screened
