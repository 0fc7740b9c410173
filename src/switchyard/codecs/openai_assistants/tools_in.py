"""``tools`` of an assistant (or a run): ``code_interpreter``, ``file_search`` with its
overrides, and ``function``, echoed as given once valid."""

from __future__ import annotations

import re
from typing import Any

from switchyard.codecs.openai_assistants.common import known_fields
from switchyard.codecs.openai_chat.fields import join, obj, opt_bool, opt_int, opt_num, opt_str, req_str, wrong_type
from switchyard.core.errors import invalid

MAX_TOOLS = 128
TOOL_TYPES = ("code_interpreter", "file_search", "function")
RANKERS = ("auto", "default_2024_08_21")
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def decode_tools(raw: object, path: str = "tools") -> list[dict[str, Any]]:
    """The validated tools (``[]`` for null); two functions may not share a name."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise wrong_type(path, "an array", raw)
    if len(raw) > MAX_TOOLS:
        raise invalid(f"Invalid '{path}': array too long. Expected an array with maximum length {MAX_TOOLS}, "
                      f"but got an array with length {len(raw)} instead.", path, "array_above_max_length")
    tools = [_tool(tool, join(path, index)) for index, tool in enumerate(raw)]
    names: set[str] = set()
    for index, tool in enumerate(tools):
        if tool["type"] == "function":
            name = tool["function"]["name"]
            if name in names:
                raise invalid(f"Invalid '{path}': duplicate function name '{name}'.",
                              f"{join(path, index)}.function.name")
            names.add(name)
    return tools


def _tool(raw: object, path: str) -> dict[str, Any]:
    tool = obj(raw, path)
    kind = req_str(tool, "type", path)
    if kind not in TOOL_TYPES:
        choices = ", ".join(f"'{t}'" for t in TOOL_TYPES)
        raise invalid(f"Invalid value for '{path}.type': '{kind}'. Supported values are: {choices}.",
                      f"{path}.type", "invalid_value")
    if kind == "code_interpreter":
        known_fields(tool, ("type",), path)
        return {"type": "code_interpreter"}
    if kind == "file_search":
        known_fields(tool, ("type", "file_search"), path)
        out: dict[str, Any] = {"type": "file_search"}
        if tool.get("file_search") is not None:
            out["file_search"] = _file_search(tool["file_search"], f"{path}.file_search")
        return out
    known_fields(tool, ("type", "function"), path)
    if tool.get("function") is None:
        raise invalid(f"Missing required parameter: '{path}.function'.", f"{path}.function",
                      "missing_required_parameter")
    return {"type": "function", "function": _function(tool["function"], f"{path}.function")}


def _file_search(raw: object, path: str) -> dict[str, Any]:
    settings = obj(raw, path)
    known_fields(settings, ("max_num_results", "ranking_options"), path)
    out: dict[str, Any] = {}
    limit = opt_int(settings, "max_num_results", path, lo=1, hi=50)
    if limit is not None:
        out["max_num_results"] = limit
    if settings.get("ranking_options") is not None:
        out["ranking_options"] = _ranking(settings["ranking_options"], f"{path}.ranking_options")
    return out


def _ranking(raw: object, path: str) -> dict[str, Any]:
    options = obj(raw, path)
    known_fields(options, ("ranker", "score_threshold"), path)
    ranker = opt_str(options, "ranker", path) or "auto"
    if ranker not in RANKERS:
        choices = ", ".join(f"'{r}'" for r in RANKERS)
        raise invalid(f"Invalid value for '{path}.ranker': '{ranker}'. Supported values are: {choices}.",
                      f"{path}.ranker", "invalid_value")
    threshold = opt_num(options, "score_threshold", path, lo=0, hi=1)
    if threshold is None:
        raise invalid(f"Missing required parameter: '{path}.score_threshold'.", f"{path}.score_threshold",
                      "missing_required_parameter")
    return {"ranker": ranker, "score_threshold": threshold}


def _function(raw: object, path: str) -> dict[str, Any]:
    fn = obj(raw, path)
    known_fields(fn, ("name", "description", "parameters", "strict"), path)
    name = req_str(fn, "name", path)
    if not _FUNCTION_NAME.match(name):
        raise invalid(f"Invalid '{path}.name': string does not match pattern. Expected a string that matches "
                      "the pattern '^[a-zA-Z0-9_-]+$' of at most 64 characters.", f"{path}.name", "invalid_value")
    out: dict[str, Any] = {"name": name}
    description = opt_str(fn, "description", path)
    if description is not None:
        out["description"] = description
    if fn.get("parameters") is not None:
        out["parameters"] = obj(fn["parameters"], f"{path}.parameters")
    strict = opt_bool(fn, "strict", path)
    if strict is not None:
        out["strict"] = strict
    return out
