"""The Responses ``image_generation`` tool as decoded from a request, and a stored
``image_generation_call`` item as the model sees it in later turns."""

from __future__ import annotations

import pytest

from switchyard.codecs.openai_responses import decode_request
from switchyard.codecs.openai_responses.items_in import items_to_canonical
from switchyard.core.errors import SwitchyardError
from switchyard.core.items import FunctionCall, FunctionCallOutput


def test_tool_options_are_kept_for_the_image_model() -> None:
    tool = {"type": "image_generation", "model": "gpt-image-1", "size": "1024x1024", "quality": "low",
            "output_compression": 80, "partial_images": 2}
    call = decode_request({"model": "m", "input": "draw", "tools": [{"type": "function", "name": "f"}, tool]})
    config = call.image_generation
    assert config is not None and config.model == "gpt-image-1" and config.path == "tools[1]"
    assert config.partial_images == 2
    assert config.options == {"size": "1024x1024", "quality": "low", "output_compression": 80}
    assert call.tools_wire[1] == tool


@pytest.mark.parametrize(
    ("tools", "param"),
    [
        ([{"type": "image_generation"}, {"type": "image_generation"}], "tools[1].type"),
        ([{"type": "image_generation", "input_image_mask": {"file_id": "file-1"}}], "tools[0].input_image_mask"),
        ([{"type": "image_generation", "action": "edit"}], "tools[0].action"),
        ([{"type": "image_generation", "size": 1024}], "tools[0].size"),
        ([{"type": "image_generation", "partial_images": 9}], "tools[0].partial_images"),
    ],
)
def test_bad_tools_are_named(tools: list, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_request({"model": "m", "input": "draw", "tools": tools})
    assert caught.value.param == param


def test_a_stored_image_call_is_a_tool_call_and_its_outcome() -> None:
    items = items_to_canonical([{"id": "ig_1", "type": "image_generation_call", "status": "completed",
                                      "result": "QQ==", "revised_prompt": "a cat"}])
    call, output = items
    assert isinstance(call, FunctionCall) and call.name == "image_generation" and call.arguments == '{"prompt":"a cat"}'
    assert isinstance(output, FunctionCallOutput) and output.call_id == "ig_1" and not output.is_error
