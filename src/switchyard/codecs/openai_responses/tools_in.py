"""``tools`` and ``tool_choice`` of a Responses request.

A function tool without ``strict`` follows the spec's reading of an omitted value:
strict when its schema is strict-compatible (every object closed with
``additionalProperties: false`` and every property required), not strict otherwise.
The echo carries the resolved boolean.

``custom`` tools and the tools of a ``namespace`` become canonical functions (see
``tool_names``). Hosted tools this server has no backend for but which clients such as
Codex always send (``web_search``, ``tool_search``) are kept apart in ``Tools.hosted``
(with the path of each): the parameter check refuses them unless the model drops them
(``drop_params``); they stay in the echo."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.openai_chat.fields import (
    arr,
    missing,
    obj,
    one_of,
    opt_bool,
    opt_int,
    opt_str,
    req_str,
    wrong_type,
)
from switchyard.codecs.openai_responses.call import FileSearchConfig, ImageGenerationConfig, McpToolConfig
from switchyard.codecs.openai_responses.tool_names import custom_parameters, flat_name
from switchyard.core.errors import invalid, unsupported
from switchyard.core.request import Tool, ToolChoice, ToolGrammar
from switchyard.core.tool_config import CodeInterpreterConfig
from switchyard.retrieval.filters import parse_filters
from switchyard.retrieval.ranking import parse_ranking_options

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_LABEL = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
BUILT_IN_TOOLS = frozenset({
    "file_search", "code_interpreter", "web_search", "web_search_preview", "web_search_2025_08_26",
    "web_search_preview_2025_03_11", "image_generation", "computer", "computer_use", "computer_use_preview",
    "local_shell", "shell", "apply_patch", "tool_search", "programmatic_tool_calling",
})
DROPPED_TOOLS = frozenset({
    "web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11", "tool_search",
})
FILE_SEARCH_TOOL = "file_search"  # the function name the model calls to search
IMAGE_TOOL = "image_generation"  # the function name the model calls to make an image
IMAGE_OPTIONS = ("size", "quality", "background", "output_format", "moderation")  # strings passed to the image model
_SUBSCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions")


@dataclass(slots=True)
class Tools:
    wire: list[dict[str, Any]] = field(default_factory=list)
    functions: list[Tool] = field(default_factory=list)
    mcp: list[McpToolConfig] = field(default_factory=list)
    file_search: FileSearchConfig | None = None
    image_generation: ImageGenerationConfig | None = None
    code_interpreter: CodeInterpreterConfig | None = None
    hosted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # of ``functions``, for linear duplicate checks
    labels: set[str] = field(default_factory=set)  # of ``mcp``


def strict_compatible(schema: object) -> bool:
    """Whether ``schema`` already meets OpenAI's strict-mode rules for objects."""
    if isinstance(schema, list):
        return all(strict_compatible(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False or set(schema.get("required") or []) != set(props):
            return False
    children: list[object] = [schema.get("items")]
    children += [schema.get(k) for k in _SUBSCHEMA_LISTS]
    for key in _SUBSCHEMA_MAPS:
        value = schema.get(key)
        if isinstance(value, dict):
            children += list(value.values())
    return all(strict_compatible(c) for c in children if c is not None)


def decode_tools(raw: object, path: str = "tools") -> Tools:
    out = Tools()
    if raw is None:
        return out
    for i, tool in enumerate(arr(raw, path)):
        add_tool(out, tool, f"{path}[{i}]")
    return out


def add_tool(out: Tools, tool: object, path: str) -> None:
    """Validate one wire tool, append it to the echo and its canonical tools to ``out``."""
    tool = obj(tool, path)
    kind = req_str(tool, "type", path)
    if kind in ("function", "custom"):
        wire, fn = _function(tool, path) if kind == "function" else _custom(tool, path)
        _add_function(out, fn, path)
    elif kind == "namespace":
        wire = _namespace(out, tool, path)
    elif kind == "mcp":
        wire, config = _mcp(tool, path)
        if config.server_label in out.labels:
            raise invalid(f"Invalid 'tools': duplicate MCP server_label '{config.server_label}'.",
                          f"{path}.server_label")
        out.labels.add(config.server_label)
        out.mcp.append(config)
    elif kind == "file_search":
        if out.file_search is not None:
            raise invalid("Invalid 'tools': only one file_search tool is allowed.", f"{path}.type")
        wire, out.file_search = _file_search(tool, path)
    elif kind == "image_generation":
        if out.image_generation is not None:
            raise invalid("Invalid 'tools': only one image_generation tool is allowed.", f"{path}.type")
        wire, out.image_generation = _image_generation(tool, path)
    elif kind == "code_interpreter":
        if out.code_interpreter is not None:
            raise invalid("Invalid 'tools': only one code_interpreter tool is allowed.", f"{path}.type")
        wire, out.code_interpreter = _code_interpreter(tool, path)
    elif kind in DROPPED_TOOLS:
        wire = dict(tool)
        out.hosted.append((path, wire))
    elif kind in BUILT_IN_TOOLS:
        raise unsupported(f"{path}.type", f"the built-in tool '{kind}' is not available on this server")
    else:
        raise invalid(f"Invalid value for '{path}.type': '{kind}'.", f"{path}.type", "invalid_value")
    out.wire.append(wire)


def _file_search(tool: dict[str, Any], path: str) -> tuple[dict[str, Any], FileSearchConfig]:
    ids = arr(tool.get("vector_store_ids"), f"{path}.vector_store_ids")
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise invalid(f"'{path}.vector_store_ids' must be a non-empty array of vector store ids.",
                      f"{path}.vector_store_ids")
    limit = tool.get("max_num_results", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 50:
        raise invalid(f"'{path}.max_num_results' must be an integer between 1 and 50.", f"{path}.max_num_results")
    filters = tool.get("filters")
    parse_filters(filters, f"{path}.filters")
    ranking = tool.get("ranking_options")
    parse_ranking_options(ranking, f"{path}.ranking_options")
    wire = {"type": "file_search", "vector_store_ids": list(ids), "max_num_results": limit, "filters": filters,
            "ranking_options": ranking or {"ranker": "auto", "score_threshold": 0.0}}
    return wire, FileSearchConfig(list(ids), limit, filters, ranking)


def _image_generation(tool: dict[str, Any], path: str) -> tuple[dict[str, Any], ImageGenerationConfig]:
    """Options the image model takes are checked and passed on; editing an input image
    (``input_image_mask``, ``action: edit``) is not offered here."""
    if tool.get("input_image_mask") is not None:
        raise unsupported(f"{path}.input_image_mask", "the image_generation tool only generates new images here")
    if tool.get("action") not in (None, "auto", "generate"):
        raise unsupported(f"{path}.action", "the image_generation tool only generates new images here")
    options: dict[str, Any] = {}
    for name in IMAGE_OPTIONS:
        value = opt_str(tool, name, path)
        if value is not None:
            options[name] = value
    compression = opt_int(tool, "output_compression", path, lo=0, hi=100)
    if compression is not None:
        options["output_compression"] = compression
    partials = opt_int(tool, "partial_images", path, lo=0, hi=3) or 0
    return dict(tool), ImageGenerationConfig(opt_str(tool, "model", path), options, path, partials)


def _code_interpreter(tool: dict[str, Any], path: str) -> tuple[dict[str, Any], CodeInterpreterConfig]:
    """``container``: a container id, or ``{"type": "auto", "file_ids": [...]}`` for one made
    on demand (``memory_limit`` is taken, the sandbox's own limit applies)."""
    container = tool.get("container")
    if isinstance(container, str):
        if not container:
            raise invalid(f"'{path}.container' must be a container id or an object.", f"{path}.container")
        return dict(tool), CodeInterpreterConfig(container, [], path)
    if not isinstance(container, dict):
        raise invalid(f"Missing required parameter: '{path}.container'.", f"{path}.container",
                      "missing_required_parameter")
    if container.get("type") != "auto":
        raise invalid(f"Invalid value for '{path}.container.type': expected 'auto'.", f"{path}.container.type",
                      "invalid_value")
    ids = container.get("file_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise invalid(f"'{path}.container.file_ids' must be an array of file ids.", f"{path}.container.file_ids")
    if len(ids) > 50:
        raise invalid(f"'{path}.container.file_ids' holds at most 50 files.", f"{path}.container.file_ids")
    if container.get("memory_limit") not in (None, "1g", "4g", "16g", "64g"):
        raise invalid(f"Invalid value for '{path}.container.memory_limit'.", f"{path}.container.memory_limit",
                      "invalid_value")
    return dict(tool), CodeInterpreterConfig(None, list(ids), path)


def _add_function(out: Tools, fn: Tool, path: str) -> None:
    if fn.name in out.names:
        raise invalid(f"Invalid 'tools': duplicate function name '{fn.name}'.", f"{path}.name")
    out.names.add(fn.name)
    out.functions.append(fn)


def _custom(tool: dict[str, Any], path: str) -> tuple[dict[str, Any], Tool]:
    name = _name(tool, path)
    description = opt_str(tool, "description", path)
    fmt = tool.get("format")
    if fmt is not None:
        fmt = obj(fmt, f"{path}.format")
        one_of(req_str(fmt, "type", f"{path}.format"), ("text", "grammar"), f"{path}.format.type")
        if fmt["type"] == "grammar":
            one_of(req_str(fmt, "syntax", f"{path}.format"), ("lark", "regex"), f"{path}.format.syntax")
            req_str(fmt, "definition", f"{path}.format")
    wire = {"type": "custom", "name": name, "description": description,
            "format": fmt if fmt is not None else {"type": "text"}}
    grammar = ToolGrammar(fmt["syntax"], fmt["definition"]) if fmt is not None and fmt["type"] == "grammar" else None
    return wire, Tool(name=name, description=description, parameters=custom_parameters(description, fmt),
                      grammar=grammar)


def _namespace(out: Tools, tool: dict[str, Any], path: str) -> dict[str, Any]:
    namespace = _name(tool, path)
    description = opt_str(tool, "description", path)
    inner_wire = []
    for j, inner in enumerate(arr(tool.get("tools"), f"{path}.tools")):
        ipath = f"{path}.tools[{j}]"
        inner = obj(inner, ipath)
        kind = one_of(req_str(inner, "type", ipath), ("function", "custom"), f"{ipath}.type")
        wire, fn = _function(inner, ipath) if kind == "function" else _custom(inner, ipath)
        fn.name = flat_name(namespace, fn.name)
        if description:
            fn.description = f"[{namespace}: {description}] {fn.description or ''}".rstrip()
        _add_function(out, fn, ipath)
        inner_wire.append(wire)
    return {"type": "namespace", "name": namespace, "description": description, "tools": inner_wire}


def _name(tool: dict[str, Any], path: str) -> str:
    name = req_str(tool, "name", path)
    if not _NAME.match(name):
        raise invalid(f"Invalid '{path}.name': string does not match pattern. Expected a string that "
                      "matches the pattern '^[a-zA-Z0-9_-]+$' of at most 128 characters.", f"{path}.name",
                      "invalid_value")
    return name


def _function(tool: dict[str, Any], path: str) -> tuple[dict[str, Any], Tool]:
    name = _name(tool, path)
    params = tool.get("parameters")
    if params is not None:
        obj(params, f"{path}.parameters")
    schema = params if params is not None else {"type": "object", "properties": {}}
    strict = opt_bool(tool, "strict", path)
    if strict is None:
        strict = params is not None and strict_compatible(params)
    description = opt_str(tool, "description", path)
    wire = {"type": "function", "name": name, "description": description, "parameters": params,
            "strict": strict}
    return wire, Tool(name=name, description=description, parameters=schema, strict=strict)


def _tool_names(raw: object, path: str) -> list[str]:
    names = arr(raw, path)
    for j, name in enumerate(names):
        if not isinstance(name, str):
            raise wrong_type(f"{path}[{j}]", "a string", name)
    return list(names)


def _filter(raw: object, path: str) -> list[str]:
    """An ``MCPToolFilter``: ``{"tool_names": [...]}``; ``read_only`` we cannot judge."""
    spec = obj(raw, path)
    if spec.get("read_only"):
        raise unsupported(f"{path}.read_only", "filtering MCP tools by read-only hint is not supported")
    return _tool_names(spec.get("tool_names") or [], f"{path}.tool_names")


def _mcp(tool: dict[str, Any], path: str) -> tuple[dict[str, Any], McpToolConfig]:
    label = req_str(tool, "server_label", path)
    if not _LABEL.match(label):
        raise invalid(f"Invalid '{path}.server_label': expected letters, digits, '_' or '-'.",
                      f"{path}.server_label", "invalid_value")
    if tool.get("connector_id") is not None:
        raise unsupported(f"{path}.connector_id", "connectors are not available; give a server_url")
    url = opt_str(tool, "server_url", path)
    if url is None:
        raise missing(f"{path}.server_url")
    if not url.startswith(("http://", "https://")):
        raise invalid(f"Invalid '{path}.server_url': expected an http(s) URL.", f"{path}.server_url",
                      "invalid_value")
    headers = dict(obj(tool["headers"], f"{path}.headers")) if tool.get("headers") is not None else {}
    for key, value in headers.items():
        if not isinstance(value, str):
            raise wrong_type(f"{path}.headers.{key}", "a string", value)
    authorization = opt_str(tool, "authorization", path)
    if authorization is not None:
        headers.setdefault("Authorization", f"Bearer {authorization}")
    allowed_raw = tool.get("allowed_tools")
    allowed: list[str] | None = None
    if isinstance(allowed_raw, list):
        allowed = _tool_names(allowed_raw, f"{path}.allowed_tools")
    elif allowed_raw is not None:
        allowed = _filter(allowed_raw, f"{path}.allowed_tools")
    approval = _approval(tool.get("require_approval"), f"{path}.require_approval")
    description = opt_str(tool, "server_description", path)
    wire = {"type": "mcp", "server_label": label, "server_url": url, "allowed_tools": allowed_raw,
            "headers": None, "require_approval": approval}
    if description is not None:
        wire["server_description"] = description
    config = McpToolConfig(label, url, headers, allowed, approval, description)
    return wire, config


def _approval(raw: object, path: str) -> str | dict[str, Any]:
    if raw is None:
        return "always"
    if isinstance(raw, str):
        return one_of(raw, ("always", "never"), path)
    policy = obj(raw, path)
    out: dict[str, Any] = {}
    for key, value in policy.items():
        one_of(key, ("always", "never"), f"{path}.{key}")
        if value is not None:
            out[key] = {"tool_names": _filter(value, f"{path}.{key}")}
    return out


def decode_tool_choice(raw: object, tools: Tools) -> tuple[ToolChoice | None, str | dict[str, Any]]:
    """The canonical choice and its echo. ``allowed_tools`` narrows ``tools`` in place
    (the echo keeps every tool); ``{"type": "mcp", "server_label"}`` without a name
    becomes ``required`` over all tools (the engine may narrow by ``tool_choice_wire``)."""
    if raw is None:
        return None, "auto"
    if isinstance(raw, str):
        mode = one_of(raw, ("none", "auto", "required"), "tool_choice")
        return ToolChoice(mode=mode), mode  # type: ignore[arg-type]
    choice = obj(raw, "tool_choice")
    kind = req_str(choice, "type", "tool_choice")
    if kind == "function":
        name = req_str(choice, "name", "tool_choice")
        if not any(t.name == name for t in tools.functions):
            raise invalid(f"Invalid value for 'tool_choice.name': no function named '{name}' was specified "
                          "in 'tools'.", "tool_choice.name", "invalid_value")
        return ToolChoice(mode="tool", name=name), {"type": "function", "name": name}
    if kind == "custom":
        name = req_str(choice, "name", "tool_choice")
        if not any(t.name == name for t in tools.functions):
            raise invalid(f"Invalid value for 'tool_choice.name': no custom tool named '{name}' was specified "
                          "in 'tools'.", "tool_choice.name", "invalid_value")
        return ToolChoice(mode="tool", name=name), {"type": "custom", "name": name}
    if kind == "mcp":
        label = req_str(choice, "server_label", "tool_choice")
        tool = opt_str(choice, "name", "tool_choice")
        if not any(c.server_label == label for c in tools.mcp):
            raise invalid(f"Invalid value for 'tool_choice.server_label': no MCP server labelled '{label}' "
                          "was specified in 'tools'.", "tool_choice.server_label", "invalid_value")
        wire = {"type": "mcp", "server_label": label, "name": tool}
        return (ToolChoice(mode="tool", name=tool) if tool else ToolChoice(mode="required")), wire
    if kind == "allowed_tools":
        return _allowed(choice, tools)
    if kind == "file_search":
        if tools.file_search is None:
            raise invalid("Invalid value for 'tool_choice': no file_search tool was specified in 'tools'.",
                          "tool_choice.type", "invalid_value")
        return ToolChoice(mode="tool", name=FILE_SEARCH_TOOL), {"type": "file_search"}
    if kind in BUILT_IN_TOOLS:
        raise unsupported("tool_choice.type", f"the built-in tool '{kind}' is not available on this server")
    raise invalid(f"Invalid value for 'tool_choice.type': '{kind}'.", "tool_choice.type", "invalid_value")


def _allowed(choice: dict[str, Any], tools: Tools) -> tuple[ToolChoice, dict[str, Any]]:
    mode = one_of(req_str(choice, "mode", "tool_choice"), ("auto", "required"), "tool_choice.mode")
    names: set[str] = set()
    labels: set[str] = set()
    for j, raw in enumerate(arr(choice.get("tools"), "tool_choice.tools")):
        path = f"tool_choice.tools[{j}]"
        entry = obj(raw, path)
        kind = req_str(entry, "type", path)
        if kind in ("function", "custom"):
            names.add(flat_name(opt_str(entry, "namespace", path), req_str(entry, "name", path)))
        elif kind == "mcp":
            labels.add(req_str(entry, "server_label", path))
        else:
            raise unsupported(f"{path}.type", f"'{kind}' tools are not available on this server")
    tools.functions = [t for t in tools.functions if t.name in names]
    tools.mcp = [c for c in tools.mcp if c.server_label in labels]
    tools.names &= names
    tools.labels &= labels
    wire = {"type": "allowed_tools", "mode": mode, "tools": list(choice["tools"])}
    return ToolChoice(mode=mode), wire  # type: ignore[arg-type]
