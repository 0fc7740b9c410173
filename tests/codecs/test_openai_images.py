"""The Images API codec: fields checked where Switchyard depends on them (400s naming the
field), passed on as given otherwise; multipart fields typed; the answer's shape."""

from __future__ import annotations

import pytest
from openai.types import ImagesResponse

from switchyard.codecs.openai_images import check_fields, encode_response, image_entry, typed_form_field
from switchyard.core.errors import SwitchyardError


def test_fields_pass_through_with_model_apart() -> None:
    call = check_fields("generations", {"model": "m", "prompt": "p", "n": 2, "size": "1024x1024",
                                        "new_upstream_option": "kept", "style": None})
    assert call.model == "m" and call.response_format is None and not call.stream
    assert call.fields == {"prompt": "p", "n": 2, "size": "1024x1024", "new_upstream_option": "kept"}


def test_stream_and_response_format() -> None:
    assert check_fields("edits", {"prompt": "p", "stream": True}).stream
    assert check_fields("variations", {"response_format": "url"}).response_format == "url"


@pytest.mark.parametrize(
    ("operation", "body", "param"),
    [
        ("generations", {}, "prompt"),
        ("generations", {"prompt": ""}, "prompt"),
        ("generations", {"prompt": "x" * 32_001}, "prompt"),
        ("generations", {"prompt": "p", "n": 0}, "n"),
        ("generations", {"prompt": "p", "n": 1.5}, "n"),
        ("generations", {"prompt": "p", "output_compression": 101}, "output_compression"),
        ("generations", {"prompt": "p", "partial_images": -1}, "partial_images"),
        ("generations", {"prompt": "p", "response_format": "png"}, "response_format"),
        ("generations", {"prompt": "p", "quality": 3}, "quality"),
        ("generations", {"prompt": "p", "metadata": {"a": 1}}, "metadata"),
        ("generations", {"prompt": "p", "model": 1}, "model"),
        ("generations", {"prompt": "p", "stream": True, "response_format": "url"}, "response_format"),
        ("variations", {"prompt": "p"}, "prompt"),
        ("variations", {"stream": True}, "stream"),
    ],
)
def test_bad_fields_are_named(operation: str, body: dict, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        check_fields(operation, body)  # type: ignore[arg-type]
    assert caught.value.param == param and caught.value.status == 400


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [("n", "3", 3), ("stream", "true", True), ("stream", "False", False), ("size", "256x256", "256x256"),
     ("partial_images", "0", 0)],
)
def test_form_fields_are_typed(name: str, raw: str, value: object) -> None:
    assert typed_form_field(name, raw) == value


@pytest.mark.parametrize(("name", "raw"), [("n", "two"), ("stream", "yes"), ("output_compression", "1.5")])
def test_bad_form_fields_are_named(name: str, raw: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        typed_form_field(name, raw)
    assert caught.value.param == name


def test_response_keeps_the_upstream_settings() -> None:
    upstream = {"created": 1, "data": [], "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3,
                                                    "input_tokens_details": {"image_tokens": 0, "text_tokens": 1}},
                "quality": "low", "size": "1024x1024", "background": "opaque", "output_format": "png", "junk": 1}
    body = encode_response(5, [image_entry(url="http://x/y.png", revised_prompt="r"), image_entry(b64_json="QQ==")],
                           upstream)
    assert "junk" not in body and body["created"] == 5
    parsed = ImagesResponse.model_validate(body)
    assert parsed.data is not None and parsed.data[0].url == "http://x/y.png" and parsed.data[1].b64_json == "QQ=="
    assert parsed.usage is not None and parsed.usage.total_tokens == 3
