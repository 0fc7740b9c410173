"""No NUL characters in text columns, on any database.

PostgreSQL's text types cannot hold U+0000 and fail the statement; SQLite would
store it. Either way a name, an id or a label with a NUL in it is a client's
mistake, not a server error, so every statement is checked before it runs: a
string parameter holding NUL is refused with a 400 naming the column, and the
unit of work rolls back with nothing written. JSON documents are unaffected:
they reach the driver serialized, with NUL escaped (``\\u0000``), which the
``json`` columns keep."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from switchyard.core.errors import invalid

_SUFFIX = re.compile(r"_\d+$")


def _names(context: Any, count: int) -> list[str]:
    compiled = getattr(context, "compiled", None)
    positions = getattr(compiled, "positiontup", None)
    if positions and len(positions) == count:
        return [_SUFFIX.sub("", str(name)) for name in positions]
    return ["value"] * count


def _check(parameters: Any, context: Any) -> None:
    """Names are worked out only for a value that holds NUL: every ledger row of a batch
    passes here, and nearly none does."""
    if isinstance(parameters, dict):
        for key, value in parameters.items():
            if isinstance(value, str) and "\x00" in value:
                _refuse(_SUFFIX.sub("", key))
    elif isinstance(parameters, list | tuple):
        for index, value in enumerate(parameters):
            if isinstance(value, str) and "\x00" in value:
                _refuse(_names(context, len(parameters))[index])


def _refuse(name: str) -> NoReturn:
    raise invalid(f"Invalid '{name}': text must not contain NUL characters (\\u0000).", name, "invalid_value")


def refuse_nul(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    """A ``before_cursor_execute`` listener."""
    if executemany and isinstance(parameters, list):
        for row in parameters:
            _check(row, context)
    else:
        _check(parameters, context)
