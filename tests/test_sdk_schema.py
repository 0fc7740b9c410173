"""The tightenings tests/sdk_schema.py adds to the schemas pydantic generates from the SDK types."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.spec import validate_openai
from tests.spec_anthropic import validate_anthropic, validate_anthropic_event

MESSAGE: dict[str, Any] = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn", "stop_sequence": None, "stop_details": None, "container": None,
    "usage": {"input_tokens": 1, "output_tokens": 1, "cache_creation": None, "cache_creation_input_tokens": None,
              "cache_read_input_tokens": None, "inference_geo": None, "server_tool_use": None,
              "service_tier": None},
}
TEXT_DELTA = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
              "delta": "hi", "logprobs": [], "sequence_number": 3}
REQUEST = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}


def test_a_valid_message_passes() -> None:
    validate_anthropic(MESSAGE, "Message")


def test_a_field_the_vendor_always_sends_may_be_null_but_not_missing() -> None:
    absent = {k: v for k, v in MESSAGE.items() if k != "stop_sequence"}
    with pytest.raises(AssertionError, match="'stop_sequence' is a required property"):
        validate_anthropic(absent, "Message")


def test_an_unknown_block_type_is_refused_by_name() -> None:
    bad = copy.deepcopy(MESSAGE)
    bad["content"][0]["type"] = "txet"
    with pytest.raises(AssertionError, match=r"at content/0/type: 'txet' is not one of"):
        validate_anthropic(bad, "Message")


def test_a_known_block_is_checked_against_its_own_type_only() -> None:
    bad = copy.deepcopy(MESSAGE)
    bad["content"][0]["text"] = 5
    with pytest.raises(AssertionError) as caught:
        validate_anthropic(bad, "Message")
    assert "at content/0/text: 5 is not of type 'string'" in str(caught.value)


def test_types_are_strict() -> None:
    bad = copy.deepcopy(MESSAGE)
    bad["usage"]["input_tokens"] = "1"
    with pytest.raises(AssertionError, match="at usage/input_tokens"):
        validate_anthropic(bad, "Message")


def test_stream_events_dispatch_on_their_type() -> None:
    validate_openai(TEXT_DELTA, "ResponseStreamEvent")
    with pytest.raises(AssertionError, match=r"'response\.output_text\.deltas' is not one of"):
        validate_openai({**TEXT_DELTA, "type": "response.output_text.deltas"}, "ResponseStreamEvent")
    with pytest.raises(AssertionError, match="'delta' is a required property"):
        validate_openai({k: v for k, v in TEXT_DELTA.items() if k != "delta"}, "ResponseStreamEvent")


def test_request_parameters_take_no_undeclared_key() -> None:
    validate_anthropic(REQUEST, "CreateMessageParams")
    with pytest.raises(AssertionError, match=r"'max_token' was unexpected"):
        validate_anthropic({**REQUEST, "max_token": 10}, "CreateMessageParams")
    block = copy.deepcopy(REQUEST)
    block["messages"][0]["content"][0]["cache_control"] = {"type": "ephemeral", "ttl": "5m", "scope": "x"}
    with pytest.raises(AssertionError, match="at messages/0"):  # user and assistant turns are an anyOf
        validate_anthropic(block, "CreateMessageParams")


def test_responses_may_carry_fields_the_sdk_does_not_know() -> None:
    validate_anthropic({**MESSAGE, "something_new": 1}, "Message")


def test_stream_event_names_are_known() -> None:
    validate_anthropic_event("ping", {"type": "ping"})
    with pytest.raises(AssertionError, match="unknown event"):
        validate_anthropic_event("message_pause", {"type": "message_pause"})


def test_an_unmapped_name_is_an_error_not_a_pass() -> None:
    with pytest.raises(AssertionError, match="no SDK type"):
        validate_openai({}, "NoSuchComponent")
