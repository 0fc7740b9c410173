"""The rerank codec: documents as strings or objects, defaults, 400s, and result order."""

from __future__ import annotations

import pytest

from switchyard.codecs.rerank import RerankCall, decode_request, encode_response
from switchyard.core.errors import SwitchyardError


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"model": "r", "query": "q", "documents": ["a", "b"]}, RerankCall("r", "q", ["a", "b"])),
        ({"model": "r", "query": "q", "documents": [{"text": "a", "id": 1}, "b"], "top_n": 1,
          "return_documents": False}, RerankCall("r", "q", ["a", "b"], 1, False)),
        ({"model": "r", "query": "q", "documents": ["a", ""], "top_n": 9}, RerankCall("r", "q", ["a", ""], 2)),
        ({"model": "r", "query": "q", "documents": ["a"], "max_chunks_per_doc": 3}, RerankCall("r", "q", ["a"])),
    ],
)
def test_decode(body: dict, expected: RerankCall) -> None:
    assert decode_request(body) == expected


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"query": "q", "documents": ["a"]}, "model"),
        ({"model": "r", "documents": ["a"]}, "query"),
        ({"model": "r", "query": "", "documents": ["a"]}, "query"),
        ({"model": "r", "query": ["q"], "documents": ["a"]}, "query"),
        ({"model": "r", "query": "q"}, "documents"),
        ({"model": "r", "query": "q", "documents": []}, "documents"),
        ({"model": "r", "query": "q", "documents": {"text": "a"}}, "documents"),
        ({"model": "r", "query": "q", "documents": ["a"] * 1001}, "documents"),
        ({"model": "r", "query": "q", "documents": ["a", 1]}, "documents[1]"),
        ({"model": "r", "query": "q", "documents": [{"text": 1}]}, "documents[0].text"),
        ({"model": "r", "query": "q", "documents": ["a"], "top_n": 0}, "top_n"),
        ({"model": "r", "query": "q", "documents": ["a"], "top_n": -3}, "top_n"),
        ({"model": "r", "query": "q", "documents": ["a"], "top_n": 1.5}, "top_n"),
        ({"model": "r", "query": "q", "documents": ["a"], "return_documents": 1}, "return_documents"),
    ],
)
def test_decode_errors_name_the_field(body: dict, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_request(body)
    assert caught.value.status == 400
    assert caught.value.param == param


def test_encode_sorts_by_score_and_carries_documents() -> None:
    call = RerankCall("r", "q", ["zero", "one", "two"])
    body = encode_response(call, [(0, 0.1), (2, 0.7), (1, 0.7)], id="x", input_tokens=12)
    assert body == {
        "id": "x", "model": "r",
        "results": [{"index": 1, "relevance_score": 0.7, "document": {"text": "one"}},
                    {"index": 2, "relevance_score": 0.7, "document": {"text": "two"}},
                    {"index": 0, "relevance_score": 0.1, "document": {"text": "zero"}}],
        "usage": {"total_tokens": 12},
    }


def test_encode_without_documents() -> None:
    call = RerankCall("r", "q", ["zero", "one"], return_documents=False)
    body = encode_response(call, [(1, 0.5)], id="x", input_tokens=0)
    assert body["results"] == [{"index": 1, "relevance_score": 0.5}]
