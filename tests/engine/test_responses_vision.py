"""Images refused for a text-only model name the Responses field that holds them."""

from __future__ import annotations

import itertools

import pytest

from switchyard.codecs.openai_responses import decode_request
from switchyard.core.errors import SwitchyardError
from switchyard.engine.responses.vision import image_paths, refuse_images

IMAGE = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}
TEXT = {"type": "input_text", "text": "What is this?"}


def call_of(**body):
    counter = itertools.count(1)
    return decode_request({"model": "m", **body}, new_item_id=lambda p: f"{p}{next(counter)}")


def refused(call, history=()):
    with pytest.raises(SwitchyardError) as info:
        refuse_images("text-only", call, call.input_items, list(history))
    assert info.value.kind.value == "invalid_request" and "cannot read images" in info.value.message
    return info.value.param


def test_an_image_in_the_input_names_its_input_path():
    call = call_of(instructions="Be brief.", input=[
        {"type": "message", "role": "user", "content": "hello"},
        {"type": "message", "role": "user", "content": [TEXT, IMAGE]},
    ])
    assert refused(call) == "input[1].content[1]"


def test_an_image_in_a_tool_output_names_its_output_path():
    call = call_of(input=[{"type": "function_call_output", "call_id": "c1", "output": [TEXT, IMAGE]}])
    assert refused(call) == "input[0].output[1]"


def test_an_image_behind_previous_response_id_names_that_field():
    call = call_of(previous_response_id="resp_1", input="And now?")
    history = [{"type": "message", "role": "user", "content": [IMAGE]}]
    assert refused(call, history) == "previous_response_id"


def test_an_image_in_a_conversation_names_the_conversation():
    call = call_of(conversation="conv_1", input="And now?")
    history = [{"type": "message", "role": "user", "content": [IMAGE]}]
    assert refused(call, history) == "conversation"


def test_text_only_input_passes():
    call = call_of(input=[{"type": "message", "role": "user", "content": [TEXT]},
                          {"type": "function_call_output", "call_id": "c1", "output": "sunny"}])
    refuse_images("text-only", call, call.input_items, [])
    assert list(image_paths(call.input_items, "input")) == []
