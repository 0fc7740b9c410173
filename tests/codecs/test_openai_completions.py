"""The legacy Completions codec."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types import Completion

from switchyard.codecs.openai_completions import (
    ChunkEncoder,
    decode_echo,
    decode_request,
    decode_stream_options,
    encode_result,
)
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    Start,
    TextDelta,
    TokenLogprob,
    TopLogprob,
    UsageReport,
)
from switchyard.core.items import Message, TextPart, text_message
from switchyard.core.result import Choice, Result
from switchyard.core.usage import Usage
from tests.spec import validate_openai


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test", **fields}


def test_decode_defaults() -> None:
    req = decode_request(body())
    assert req.items == [text_message("user", "Say this is a test")]
    assert req.metadata == {"raw_prompt": True}
    assert req.max_output_tokens == 16
    assert req.n == 1 and not req.logprobs and not req.stream


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"prompt": ["one"]}, {"items": [text_message("user", "one")]}),
        ({"max_tokens": 5, "stop": "\n", "n": 2, "seed": 1},
         {"max_output_tokens": 5, "stop": ["\n"], "n": 2, "seed": 1}),
        ({"logprobs": 3}, {"logprobs": True, "top_logprobs": 3}),
        ({"logprobs": 0}, {"logprobs": True, "top_logprobs": 0}),
        ({"temperature": 1.5, "top_p": 0.5, "user": "u"},
         {"temperature": 1.5, "top_p": 0.5, "user": "u"}),
        ({"stream": True, "stream_options": {"include_usage": True}}, {"stream": True}),
        ({"suffix": ""}, {}),
        ({"best_of": 1}, {}),
    ],
)
def test_decode_parameters(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    req = decode_request(body(**fields))
    for key, value in expected.items():
        assert getattr(req, key) == value, key


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"prompt": ["a", "b"]}, "prompt"),
        ({"prompt": [[1, 2, 3]]}, "prompt[0]"),
        ({"prompt": 5}, "prompt"),
        ({"suffix": "tail"}, "suffix"),
        ({"best_of": 3}, "best_of"),
        ({"max_tokens": -1}, "max_tokens"),
        ({"logprobs": 6}, "logprobs"),
        ({"logprobs": True}, "logprobs"),
        ({"echo": "yes"}, "echo"),
        ({"stop": [1]}, "stop[0]"),
        ({"temperature": 3}, "temperature"),
        ({"model": None}, "model"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
    ],
)
def test_decode_errors_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(SwitchyardError) as info:
        decode_request(body(**fields))
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert info.value.param == param


def test_echo_and_stream_options() -> None:
    assert decode_echo(body(echo=True)) == "Say this is a test"
    assert decode_echo(body()) is None
    assert decode_stream_options(body(stream=True, stream_options={"include_usage": True}))


def test_encode_result() -> None:
    lp = [TokenLogprob("\n", -0.1, None, [TopLogprob("\n", -0.1)]),
          TokenLogprob("This", -0.3, None, [TopLogprob("This", -0.3)])]
    result = Result(
        choices=[Choice(0, [Message("assistant", [TextPart("\nThis")])], finish_reason="length",
                        logprobs=lp)],
        usage=Usage(5, 2),
    )
    out = encode_result(result, id="cmpl-1", model="m", created=9, echo="Hi")
    validate_openai(out, "CreateCompletionResponse")
    Completion.model_validate(out)
    assert out["object"] == "text_completion"
    assert out["choices"] == [{
        "text": "Hi\nThis",
        "index": 0,
        "logprobs": {"tokens": ["\n", "This"], "token_logprobs": [-0.1, -0.3],
                     "top_logprobs": [{"\n": -0.1}, {"This": -0.3}], "text_offset": [2, 3]},
        "finish_reason": "length",
    }]
    assert out["usage"]["total_tokens"] == 7


@pytest.mark.parametrize(("reason", "wire"), [("tool_calls", "stop"), ("pause", "stop"),
                                              ("content_filter", "content_filter")])
def test_finish_reasons_fit_the_legacy_enum(reason: Any, wire: str) -> None:
    out = encode_result(Result(choices=[Choice(0, finish_reason=reason)]), id="c", model="m",
                        created=1)
    assert out["choices"][0]["finish_reason"] == wire


def stream(events: list[Event], **kwargs: Any) -> list[dict[str, Any]]:
    encoder = ChunkEncoder(id="cmpl-1", model="m", created=1, **kwargs)
    chunks = [c for e in events for c in encoder.feed(e)] + encoder.close()
    for c in chunks:
        if "error" in c:
            continue
        # OpenAI streams ``finish_reason: null`` until the end, which the SDK's (and the
        # spec's) non-nullable enum does not describe; the SDK parses chunks leniently.
        assert all(set(ch) == {"text", "index", "logprobs", "finish_reason"}
                   for ch in c["choices"])
        if all(ch["finish_reason"] for ch in c["choices"]):
            Completion.model_validate(c)
    return chunks


EVENTS: list[Event] = [
    Start(), BlockStart(0, "text"), TextDelta(0, "This"), TextDelta(0, " is"), BlockStop(0),
    UsageReport(Usage(4, 2)), Finish("stop"),
]


def test_stream_chunks() -> None:
    chunks = stream(EVENTS, include_usage=True, echo="Q:")
    assert [(c["choices"][0]["text"], c["choices"][0]["finish_reason"])
            for c in chunks[:-1]] == [("Q:", None), ("This", None), (" is", None), ("", "stop")]
    assert all(c["object"] == "text_completion" and c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 6


def test_stream_without_usage_and_with_failure() -> None:
    chunks = stream([*EVENTS[:3], Failure(SwitchyardError(ErrorKind.TIMEOUT, "slow"))],
                    include_usage=False)
    assert all("usage" not in c for c in chunks)
    assert chunks[-1] == {"error": {"message": "slow", "type": "timeout", "param": None,
                                    "code": None}}
