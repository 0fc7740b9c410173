"""Stop sequences across token boundaries."""

from __future__ import annotations

import pytest

from switchyard.providers.local.stops import StopFilter


@pytest.mark.parametrize(
    ("stops", "tokens", "text", "matched"),
    [
        ([], ["a", "b"], "ab", None),
        (["END"], ["hello ", "EN", "D more"], "hello ", "END"),
        (["END"], ["hello ", "EN", "o"], "hello ENo", None),
        (["\n\n", "x"], ["ab\n", "\ncx"], "ab", "\n\n"),
        (["stop"], ["st"], "st", None),
        (["ab", "b"], ["xab"], "x", "ab"),
    ],
)
def test_stop_filter(stops: list[str], tokens: list[str], text: str, matched: str | None) -> None:
    f = StopFilter(stops)
    out = ""
    for t in tokens:
        out += f.feed(t)
        if f.matched:
            break
    else:
        out += f.finish()
    assert (out, f.matched) == (text, matched)
