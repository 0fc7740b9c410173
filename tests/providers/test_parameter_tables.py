"""The parameter support tables: complete for every backend kind, and the same as the
table in docs/parameters.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.core.parameters import NAMES
from switchyard.providers.base import Support
from switchyard.providers.parameter_table import backend_tables, markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "parameters.md"


@pytest.mark.parametrize("kind", list(backend_tables()))
def test_every_backend_says_how_it_treats_every_parameter(kind: str) -> None:
    table = backend_tables()[kind]
    assert sorted(table) == sorted(NAMES)
    for name, support in table.items():
        if support.support in (Support.TRANSLATED, Support.UNSUPPORTED):
            assert support.how, f"{kind}.{name}: say what it becomes, or why it is refused"


def test_the_docs_show_the_tables() -> None:
    text = DOC.read_text()
    start = text.index("-->\n", text.index("<!-- generated")) + 4
    end = text.index("<!-- end generated -->")
    assert text[start:end] == markdown()


def test_every_parameter_has_a_neutral_reading() -> None:
    from switchyard.core.items import text_message
    from switchyard.core.parameters import PARAMETERS
    from switchyard.core.request import Request

    plain = Request(model="m", items=[text_message("user", "hi")])
    assert [p.name for p in PARAMETERS if p.is_set(plain)] == []
