from __future__ import annotations

import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.retrieval.filters import parse_filters, validate_attributes
from switchyard.store.vector_store_chunks import Comparison, Compound


def test_parses_comparisons_and_compounds() -> None:
    parsed = parse_filters({"type": "and", "filters": [
        {"type": "eq", "key": "lang", "value": "en"},
        {"type": "or", "filters": [{"type": "in", "key": "year", "value": [2023, 2024]},
                                   {"type": "eq", "key": "draft", "value": False}]},
    ]})
    assert parsed == Compound("and", (
        Comparison("eq", "lang", "en"),
        Compound("or", (Comparison("in", "year", (2023, 2024)), Comparison("eq", "draft", False))),
    ))
    assert parse_filters(None) is None


@pytest.mark.parametrize(("filters", "param"), [
    ([], "filters"),
    ({"type": "like", "key": "a", "value": 1}, "filters.type"),
    ({"type": "eq", "value": 1}, "filters.key"),
    ({"type": "eq", "key": "", "value": 1}, "filters.key"),
    ({"type": "eq", "key": 'qu"ote', "value": 1}, "filters.key"),
    ({"type": "eq", "key": "a"}, "filters.value"),
    ({"type": "eq", "key": "a", "value": None}, "filters.value"),
    ({"type": "eq", "key": "a", "value": {"x": 1}}, "filters.value"),
    ({"type": "gt", "key": "a", "value": True}, "filters.value"),
    ({"type": "in", "key": "a", "value": "x"}, "filters.value"),
    ({"type": "in", "key": "a", "value": []}, "filters.value"),
    ({"type": "nin", "key": "a", "value": ["x", True]}, "filters.value[1]"),
    ({"type": "and", "filters": []}, "filters.filters"),
    ({"type": "or"}, "filters.filters"),
    ({"type": "and", "filters": [{"type": "eq", "key": "a", "value": 1}, {"type": "gte", "key": "b"}]},
     "filters.filters[1].value"),
])
def test_bad_filters_name_the_field(filters: object, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        parse_filters(filters)
    assert caught.value.status == 400 and caught.value.param == param


def test_deep_nesting_is_refused() -> None:
    node: dict[str, object] = {"type": "eq", "key": "a", "value": 1}
    for _ in range(10):
        node = {"type": "and", "filters": [node]}
    with pytest.raises(SwitchyardError):
        parse_filters(node)


def test_attributes() -> None:
    assert validate_attributes(None) == {}
    assert validate_attributes({"a": "x", "b": 1.5, "c": True}) == {"a": "x", "b": 1.5, "c": True}
    for bad, param in [
        ({f"k{i}": i for i in range(17)}, "attributes"),
        ({"a": None}, "attributes.a"),
        ({"a": [1]}, "attributes.a"),
        ({"a": "x" * 513}, "attributes.a"),
        ({"k" * 65: 1}, "attributes." + "k" * 65),
        ("x", "attributes"),
    ]:
        with pytest.raises(SwitchyardError) as caught:
            validate_attributes(bad)
        assert caught.value.param == param
