"""Create and modify bodies of ``/v1/assistants``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_assistants.common import bounded_text, known_fields
from switchyard.codecs.openai_assistants.resources_in import ResourcesIn, decode_tool_resources
from switchyard.codecs.openai_assistants.tools_in import decode_tools
from switchyard.codecs.openai_chat.fields import no_nul, obj, opt_bool, opt_num, opt_str, req_str, wrong_type
from switchyard.core.errors import invalid

FIELDS = ("model", "name", "description", "instructions", "tools", "tool_resources", "metadata", "temperature",
          "top_p", "response_format", "reasoning_effort")
MAX_NAME, MAX_DESCRIPTION, MAX_INSTRUCTIONS = 256, 512, 256_000
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
_SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass(slots=True)
class AssistantIn:
    """The validated wire fields a request gives (``model``, ``tools``… as they will be
    shown), and its ``tool_resources`` (None when not given)."""

    fields: dict[str, Any] = field(default_factory=dict)
    resources: ResourcesIn | None = None


def decode_assistant(body: dict[str, Any], *, create: bool) -> AssistantIn:
    """A create body (``model`` required) or a modify body (every field optional)."""
    known_fields(body, FIELDS)
    out = AssistantIn()
    if create or body.get("model") is not None:
        model = req_str(body, "model")
        if not model:
            raise invalid("Invalid 'model': empty string.", "model", "empty_string")
        out.fields["model"] = no_nul(model, "model")
    for key, limit in (("name", MAX_NAME), ("description", MAX_DESCRIPTION), ("instructions", MAX_INSTRUCTIONS)):
        if key in body:
            out.fields[key] = bounded_text(body, key, limit)
    if create or body.get("tools") is not None:
        out.fields["tools"] = decode_tools(body.get("tools"))
    if create or body.get("metadata") is not None:
        out.fields["metadata"] = decode_metadata(body.get("metadata")) or {}
    if "temperature" in body:
        out.fields["temperature"] = opt_num(body, "temperature", lo=0, hi=2)
    if "top_p" in body:
        out.fields["top_p"] = opt_num(body, "top_p", lo=0, hi=1)
    if "response_format" in body:
        out.fields["response_format"] = decode_response_format(body["response_format"])
    if "reasoning_effort" in body:
        out.fields["reasoning_effort"] = _effort(body)
    if "tool_resources" in body:
        out.resources = decode_tool_resources(body["tool_resources"])
    return out


def _effort(body: dict[str, Any]) -> str | None:
    effort = opt_str(body, "reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        choices = ", ".join(f"'{e}'" for e in REASONING_EFFORTS)
        raise invalid(f"Invalid value for 'reasoning_effort': '{effort}'. Supported values are: {choices}.",
                      "reasoning_effort", "invalid_value")
    return effort


def decode_response_format(raw: object, path: str = "response_format") -> str | dict[str, Any] | None:
    """``"auto"``, ``{"type": "text"}``, ``{"type": "json_object"}`` or a
    ``json_schema`` format; null stays null."""
    if raw is None or raw == "auto":
        return raw
    if isinstance(raw, str):
        raise invalid(f"Invalid value for '{path}': '{raw}'. Supported values are: 'auto' or an object.", path,
                      "invalid_value")
    fmt = obj(raw, path)
    kind = req_str(fmt, "type", path)
    if kind in ("text", "json_object"):
        known_fields(fmt, ("type",), path)
        return {"type": kind}
    if kind != "json_schema":
        raise invalid(f"Invalid value for '{path}.type': '{kind}'. Supported values are: 'text', 'json_object' "
                      "and 'json_schema'.", f"{path}.type", "invalid_value")
    known_fields(fmt, ("type", "json_schema"), path)
    if fmt.get("json_schema") is None:
        raise invalid(f"Missing required parameter: '{path}.json_schema'.", f"{path}.json_schema",
                      "missing_required_parameter")
    spec = obj(fmt["json_schema"], f"{path}.json_schema")
    spath = f"{path}.json_schema"
    known_fields(spec, ("name", "description", "schema", "strict"), spath)
    name = req_str(spec, "name", spath)
    if not _SCHEMA_NAME.match(name):
        raise invalid(f"Invalid '{spath}.name': expected a string of letters, digits, '_' and '-', at most 64 "
                      "characters.", f"{spath}.name", "invalid_value")
    out: dict[str, Any] = {"name": name}
    description = opt_str(spec, "description", spath)
    if description is not None:
        out["description"] = description
    if spec.get("schema") is not None:
        schema = spec["schema"]
        if not isinstance(schema, dict):
            raise wrong_type(f"{spath}.schema", "an object", schema)
        out["schema"] = schema
    strict = opt_bool(spec, "strict", spath)
    if strict is not None:
        out["strict"] = strict
    return {"type": "json_schema", "json_schema": out}
