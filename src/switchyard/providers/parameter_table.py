"""The parameter support of every backend kind as one Markdown table (the one in
``docs/parameters.md``; a test keeps the two equal)."""

from __future__ import annotations

from collections.abc import Mapping

from switchyard.core.parameters import NAMES
from switchyard.providers.base import ParamSupport, Support


def backend_tables() -> dict[str, Mapping[str, ParamSupport]]:
    from switchyard.providers import anthropic, openai, openai_responses
    from switchyard.providers.local import provider as local

    return {"openai": openai.PARAMETERS, "openai-responses": openai_responses.PARAMETERS,
            "anthropic": anthropic.PARAMETERS, "local": local.PARAMETERS}


def _cell(support: ParamSupport | None) -> str:
    if support is None:
        return "refused"
    word = {Support.NATIVE: "honoured", Support.TRANSLATED: "translated", Support.IMPLICIT: "honoured",
            Support.UNSUPPORTED: "refused"}[support.support]
    notes = [support.how] if support.how else []
    if support.values is not None and support.support is not Support.UNSUPPORTED:
        notes.append("other values refused")
    return f"{word}: {'; '.join(notes)}" if notes else word


def markdown() -> str:
    tables = backend_tables()
    lines = ["| parameter | " + " | ".join(f"`{kind}`" for kind in tables) + " |",
             "|---|" + "---|" * len(tables)]
    for name in NAMES:
        cells = [_cell(table.get(name)).replace("|", "\\|") for table in tables.values()]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
