from __future__ import annotations

import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.providers.token_count import count_text
from switchyard.retrieval.chunking import chunk_text, parse_chunking_strategy, static_strategy

AUTO = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}


@pytest.mark.parametrize("given", [None, {"type": "auto"}])
def test_auto_is_static_800_400(given: object) -> None:
    assert parse_chunking_strategy(given) == AUTO


def test_static_is_kept() -> None:
    given = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}}
    assert parse_chunking_strategy(given) == given


@pytest.mark.parametrize(("given", "param"), [
    ("auto", "chunking_strategy"),
    ({"type": "semantic"}, "chunking_strategy.type"),
    ({"type": "static"}, "chunking_strategy.static"),
    ({"type": "static", "static": {"chunk_overlap_tokens": 0}}, "chunking_strategy.static.max_chunk_size_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": 200}}, "chunking_strategy.static.chunk_overlap_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}},
     "chunking_strategy.static.max_chunk_size_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0}},
     "chunking_strategy.static.max_chunk_size_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": "800", "chunk_overlap_tokens": 0}},
     "chunking_strategy.static.max_chunk_size_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 101}},
     "chunking_strategy.static.chunk_overlap_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": -1}},
     "chunking_strategy.static.chunk_overlap_tokens"),
])
def test_bad_strategies_name_the_field(given: object, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        parse_chunking_strategy(given)
    assert caught.value.status == 400 and caught.value.param == param


def test_windows_overlap_by_the_given_tokens() -> None:
    words = [f"w{i}" for i in range(1000)]
    chunks = chunk_text(" ".join(words), static_strategy(100, 40))
    assert all(chunk.tokens <= 100 for chunk in chunks)
    assert all(count_text(chunk.text) <= 100 for chunk in chunks)
    first, second = chunks[0].text.split(), chunks[1].text.split()
    shared = [w for w in second if w in set(first)]
    assert 15 <= len(shared) <= 25  # 40 overlapping tokens ≈ 20 "wN" words
    assert words[-1] in chunks[-1].text
    # every word is in some chunk
    assert set(words) <= {w for chunk in chunks for w in chunk.text.split()}


def test_no_overlap_and_short_text() -> None:
    assert [c.text for c in chunk_text("just a few words", static_strategy(100, 0))] == ["just a few words"]
    assert chunk_text("   ", static_strategy(100, 0)) == []


def test_multibyte_text_is_not_mangled() -> None:
    text = "日本語のテキストと絵文字🙂を含む文章。" * 100
    chunks = chunk_text(text, static_strategy(100, 20))
    assert len(chunks) > 3
    assert all("\ufffd" not in chunk.text for chunk in chunks)
