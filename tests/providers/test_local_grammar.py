"""What the local model's JSON-schema grammar leaves unchecked (validated after
generation instead)."""

from __future__ import annotations

import pytest

from switchyard.providers.local.grammar import schema_grammar


@pytest.mark.parametrize(
    ("schema", "unenforced"),
    [
        ({"type": "object", "properties": {"n": {"type": "integer"}}}, []),
        ({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 9}}},
         ["maximum", "minimum"]),
        ({"type": "array", "items": {"type": "number", "multipleOf": 5}, "uniqueItems": True},
         ["multipleOf", "uniqueItems"]),
        ({"type": "string", "format": "email"}, ["format"]),
        ({"type": "string", "format": "date"}, []),
        ({"type": "string", "maxLength": 100000}, ["maxLength"]),
        ({"type": "object", "properties": {"a": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0},
                                                           {"type": "null"}]}}}, ["exclusiveMinimum"]),
    ],
)
def test_unenforced_keywords(schema: dict[str, object], unenforced: list[str]) -> None:
    grammar = schema_grammar(schema)
    assert grammar.unenforced == unenforced
    assert "root ::=" in grammar.gbnf
