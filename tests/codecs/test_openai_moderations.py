"""The Moderations API codec: every input shape, 400s naming the field, and the full
response shape (all thirteen categories) in both directions."""

from __future__ import annotations

import pytest
from openai.types import ModerationCreateResponse

from switchyard.codecs.openai_moderations import decode_request, decode_result, encode_response
from switchyard.core.errors import SwitchyardError
from switchyard.core.moderation import CATEGORIES, ModerationInput, verdict_from_scores

IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}


@pytest.mark.parametrize(
    ("body", "model", "inputs"),
    [
        ({"input": "hi"}, None, [ModerationInput(texts=("hi",))]),
        ({"model": "m", "input": ["a", "b"]}, "m", [ModerationInput(texts=("a",)), ModerationInput(texts=("b",))]),
        ({"input": [{"type": "text", "text": "x"}, IMAGE]}, None,
         [ModerationInput(texts=("x",), images=("https://example.com/a.png",), image_paths=("input[1].image_url",))]),
        ({"input": ""}, None, [ModerationInput(texts=("",))]),
    ],
)
def test_inputs(body: dict, model: str | None, inputs: list[ModerationInput]) -> None:
    call = decode_request(body)
    assert call.model == model and call.inputs == inputs and call.wire_input == body["input"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "input"),
        ({"input": None}, "input"),
        ({"input": []}, "input"),
        ({"input": {"text": "x"}}, "input"),
        ({"input": ["x", None]}, "input[1]"),
        ({"input": [{"type": "text", "text": 3}]}, "input[0].text"),
        ({"input": [{"type": "image_url"}]}, "input[0].image_url"),
        ({"input": [{"type": "image_url", "image_url": {"url": "javascript:x"}}]}, "input[0].image_url.url"),
        ({"input": [IMAGE, IMAGE]}, "input"),
        ({"input": [{"type": "video"}]}, "input[0].type"),
        ({"input": "x", "user": "u"}, "user"),
        ({"input": "x", "model": ["m"]}, "model"),
        ({"input": ["x"] * 2049}, "input"),
    ],
)
def test_bad_input_names_the_field(body: dict, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_request(body)
    assert caught.value.param == param and caught.value.status == 400


def test_encoded_response_parses_as_the_sdk_type_with_every_category() -> None:
    verdict = verdict_from_scores({"harassment": 0.9, "violence": 0.2}, 0.5, {"harassment": ("text",)})
    body = encode_response("modr-1", "m", [verdict])
    parsed = ModerationCreateResponse.model_validate(body)
    result = parsed.results[0]
    assert result.flagged and result.categories.harassment and not result.categories.violence
    assert result.category_scores.violence == 0.2
    assert result.category_applied_input_types.harassment == ["text"]
    assert result.category_applied_input_types.violence == []
    for field in ("categories", "category_scores", "category_applied_input_types"):
        assert list(body["results"][0][field]) == list(CATEGORIES)


def test_upstream_result_reads_back_with_gaps_filled() -> None:
    verdict = decode_result({"categories": {"hate": True}, "category_scores": {"hate": 0.7, "sexual": "x"},
                             "category_applied_input_types": {"hate": ["text", "audio"]}}, "results[0]")
    assert verdict.flagged and verdict.flagged_categories() == ["hate"]
    assert verdict.scores["hate"] == 0.7 and verdict.scores["sexual"] == 0.0
    assert verdict.applied["hate"] == ("text",) and verdict.applied["violence"] == ()
