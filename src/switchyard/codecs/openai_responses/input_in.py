"""The ``input`` of a Responses request, validated and normalised to stored wire items.

Every item comes out with ``type`` and (except ``item_reference``) an ``id``; messages
have a list of typed parts and a ``status``; assistant messages have the output-message
shape (``output_text`` parts with ``annotations`` and ``logprobs``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchyard.codecs.openai_chat.fields import (
    arr,
    join,
    missing,
    no_nul,
    obj,
    one_of,
    opt_bool,
    opt_str,
    req_str,
    wrong_type,
)
from switchyard.codecs.openai_chat.wire import parse_data_url
from switchyard.codecs.openai_responses.call import NewItemId
from switchyard.core.errors import invalid, unsupported

ROLES = ("user", "system", "developer", "assistant")
IMAGE_DETAILS = ("low", "high", "auto", "original")
ITEM_STATUSES = ("in_progress", "completed", "incomplete")
_INPUT_PARTS = ("input_text", "input_image", "input_file")
_ASSISTANT_PARTS = ("output_text", "refusal", "input_text")
_BUILT_IN = frozenset({
    "computer_call", "computer_call_output",
    "code_interpreter_call", "image_generation_call", "local_shell_call", "local_shell_call_output",
    "shell_call", "shell_call_output", "apply_patch_call", "apply_patch_call_output",
    "program", "program_output",
})
# Items of hosted tools a client may send back in its history (Codex re-sends everything);
# kept as given and never shown to the model (see ``items_in``).
_KEPT_AS_GIVEN = frozenset({"web_search_call", "tool_search_call", "tool_search_output"})


def decode_input(value: object, new_item_id: NewItemId) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [_message({"role": "user", "content": value}, "input", new_item_id)]
    return [_item(raw, f"input[{i}]", new_item_id) for i, raw in enumerate(arr(value, "input"))]


def normalize_items(value: object, param: str, new_item_id: NewItemId) -> list[dict[str, Any]]:
    """Items given outside a response (e.g. added to a conversation), stored as wire items."""
    items = [_item(raw, f"{param}[{i}]", new_item_id) for i, raw in enumerate(arr(value, param))]
    for i, item in enumerate(items):
        if item["type"] == "item_reference":
            raise invalid(f"'{param}[{i}]': item references cannot be stored.", f"{param}[{i}].type")
    return items


def _item(raw: object, path: str, new_item_id: NewItemId) -> dict[str, Any]:
    item = obj(raw, path)
    if isinstance(item.get("id"), str):
        no_nul(item["id"], f"{path}.id")
    kind = opt_str(item, "type", path)
    if kind is None:
        if "role" in item:
            kind = "message"
        elif "id" in item:
            kind = "item_reference"
        else:
            raise missing(f"{path}.type")
    handler = _HANDLERS.get(kind)
    if handler is not None:
        return handler(item, path, new_item_id)
    if kind in _KEPT_AS_GIVEN:
        return {**item, "id": opt_str(item, "id", path) or new_item_id("item_")}
    if kind in ("mcp_list_tools", "mcp_call", "mcp_approval_request"):
        return _mcp_item(item, kind, path)
    if kind in _BUILT_IN:
        raise unsupported(f"{path}.type", f"'{kind}' items belong to a tool this server does not offer")
    raise invalid(f"Invalid value for '{path}.type': '{kind}'.", f"{path}.type", "invalid_value")


def _reference(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    return {"type": "item_reference", "id": req_str(item, "id", path)}


def _compaction(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    return {"id": opt_str(item, "id", path) or new_item_id("cmp_"), "type": "compaction",
            "encrypted_content": req_str(item, "encrypted_content", path)}


def _custom_tool_call_output(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    return _function_call_output(item, path, new_item_id, "custom_tool_call_output", "ctco_")


def _message(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    role = one_of(req_str(item, "role", path), ROLES, f"{path}.role")
    content = item.get("content")
    cpath = f"{path}.content"
    if content is None:
        raise missing(cpath)
    if isinstance(content, str):
        content = [{"type": "output_text" if role == "assistant" else "input_text", "text": content}]
    elif not isinstance(content, list):
        raise wrong_type(cpath, "a string or an array of content parts", content)
    allowed = _ASSISTANT_PARTS if role == "assistant" else _INPUT_PARTS
    parts = [_part(p, join(cpath, j), allowed) for j, p in enumerate(content)]
    status = opt_str(item, "status", path)
    out = {
        "id": opt_str(item, "id", path) or new_item_id("msg_"),
        "type": "message",
        "role": role,
        "content": parts,
        "status": one_of(status, ITEM_STATUSES, f"{path}.status") if status else "completed",
    }
    phase = opt_str(item, "phase", path)
    if phase is not None and role == "assistant":
        out["phase"] = one_of(phase, ("commentary", "final_answer"), f"{path}.phase")
    return out


def _part(raw: object, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    part = obj(raw, path)
    kind = one_of(req_str(part, "type", path), allowed, f"{path}.type")
    if kind == "input_text" and "output_text" in allowed:
        kind = "output_text"  # lenient: assistant history sent with input_text parts
    if kind == "input_text":
        return {"type": "input_text", "text": req_str(part, "text", path)}
    if kind == "output_text":
        annotations = part.get("annotations")
        logprobs = part.get("logprobs")
        return {
            "type": "output_text",
            "text": req_str(part, "text", path),
            "annotations": arr(annotations, f"{path}.annotations") if annotations is not None else [],
            "logprobs": arr(logprobs, f"{path}.logprobs") if logprobs is not None else [],
        }
    if kind == "refusal":
        return {"type": "refusal", "refusal": req_str(part, "refusal", path)}
    if kind == "input_image":
        return _image(part, path)
    return _file(part, path)


def _image(part: dict[str, Any], path: str) -> dict[str, Any]:
    url = opt_str(part, "image_url", path)
    file_id = opt_str(part, "file_id", path)
    if url is None and file_id is None:
        raise missing(f"{path}.image_url")
    if url is not None:
        if url.startswith("data:"):
            parsed = parse_data_url(url)
            if parsed is None or not (parsed[0] or "").startswith("image/"):
                raise invalid(f"Invalid '{path}.image_url': expected a base64-encoded data URL with an "
                              "image media type, e.g. 'data:image/jpeg;base64,...'.",
                              f"{path}.image_url", "invalid_image_url")
        elif not url.startswith(("http://", "https://")):
            raise invalid(f"Invalid '{path}.image_url': expected an http(s) URL or a data URL.",
                          f"{path}.image_url", "invalid_image_url")
    detail = opt_str(part, "detail", path) or "auto"
    out: dict[str, Any] = {"type": "input_image", "detail": one_of(detail, IMAGE_DETAILS, f"{path}.detail")}
    if url is not None:
        out["image_url"] = url
    if file_id is not None:
        out["file_id"] = file_id
    return out


def _file(part: dict[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "input_file"}
    for key in ("file_id", "file_data", "file_url", "filename"):
        value = opt_str(part, key, path)
        if value is not None:
            out[key] = value
    if not {"file_id", "file_data", "file_url"} & out.keys():
        raise missing(f"{path}.file_id")
    url = out.get("file_url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise invalid(f"Invalid '{path}.file_url': expected an http(s) URL.", f"{path}.file_url",
                      "invalid_value")
    return out


def _status(item: dict[str, Any], path: str) -> str:
    status = opt_str(item, "status", path)
    return one_of(status, ITEM_STATUSES, f"{path}.status") if status else "completed"


def _function_call(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    out = {
        "id": opt_str(item, "id", path) or new_item_id("fc_"),
        "type": "function_call",
        "call_id": req_str(item, "call_id", path),
        "name": req_str(item, "name", path),
        "arguments": req_str(item, "arguments", path),
        "status": _status(item, path),
    }
    return _with_namespace(out, item, path)


def _with_namespace(out: dict[str, Any], item: dict[str, Any], path: str) -> dict[str, Any]:
    namespace = opt_str(item, "namespace", path)
    if namespace is not None:
        out["namespace"] = namespace
    return out


def _custom_tool_call(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    out = {
        "id": opt_str(item, "id", path) or new_item_id("ctc_"),
        "type": "custom_tool_call",
        "call_id": req_str(item, "call_id", path),
        "name": req_str(item, "name", path),
        "input": req_str(item, "input", path),
        "status": _status(item, path),
    }
    return _with_namespace(out, item, path)


def _additional_tools(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    """Tools a client makes available from this point on; ``decode_request`` adds them."""
    role = opt_str(item, "role", path) or "developer"
    return {
        "id": opt_str(item, "id", path) or new_item_id("at_"),
        "type": "additional_tools",
        "role": one_of(role, ("developer",), f"{path}.role"),
        "tools": arr(item.get("tools"), f"{path}.tools"),
    }


def _function_call_output(item: dict[str, Any], path: str, new_item_id: NewItemId,
                          kind: str = "function_call_output", prefix: str = "fco_") -> dict[str, Any]:
    output = item.get("output")
    opath = f"{path}.output"
    if output is None:
        raise missing(opath)
    if isinstance(output, list):
        output = [_part(p, join(opath, j), _INPUT_PARTS) for j, p in enumerate(output)]
    elif not isinstance(output, str):
        raise wrong_type(opath, "a string or an array of content parts", output)
    return {
        "id": opt_str(item, "id", path) or new_item_id(prefix),
        "type": kind,
        "call_id": req_str(item, "call_id", path),
        "output": output,
        "status": _status(item, path),
    }


def _texts(item: dict[str, Any], key: str, kind: str, path: str) -> list[dict[str, Any]]:
    out = []
    for j, raw in enumerate(arr(item.get(key), join(path, key))):
        ppath = f"{path}.{key}[{j}]"
        part = obj(raw, ppath)
        one_of(req_str(part, "type", ppath), (kind,), f"{ppath}.type")
        out.append({"type": kind, "text": req_str(part, "text", ppath)})
    return out


def _reasoning(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    if item.get("summary") is None:
        raise missing(f"{path}.summary")
    out: dict[str, Any] = {
        "id": opt_str(item, "id", path) or new_item_id("rs_"),
        "type": "reasoning",
        "summary": _texts(item, "summary", "summary_text", path),
    }
    if item.get("content") is not None:
        out["content"] = _texts(item, "content", "reasoning_text", path)
    encrypted = opt_str(item, "encrypted_content", path)
    if encrypted is not None:
        out["encrypted_content"] = encrypted
    return out


def _approval_response(item: dict[str, Any], path: str, new_item_id: NewItemId) -> dict[str, Any]:
    approve = opt_bool(item, "approve", path)
    if approve is None:
        raise missing(f"{path}.approve")
    return {
        "id": opt_str(item, "id", path) or new_item_id("mcpa_"),
        "type": "mcp_approval_response",
        "approval_request_id": req_str(item, "approval_request_id", path),
        "approve": approve,
        "reason": opt_str(item, "reason", path),
    }


def _mcp_item(item: dict[str, Any], kind: str, path: str) -> dict[str, Any]:
    """Items the server made, given back: checked for the fields we rely on, kept as sent."""
    req_str(item, "id", path)
    req_str(item, "server_label", path)
    if kind == "mcp_list_tools":
        for j, tool in enumerate(arr(item.get("tools"), f"{path}.tools")):
            req_str(obj(tool, f"{path}.tools[{j}]"), "name", f"{path}.tools[{j}]")
    else:
        req_str(item, "name", path)
        req_str(item, "arguments", path)
    if kind == "mcp_call":
        opt_str(item, "output", path)
    return dict(item)


_HANDLERS: dict[str, Callable[[dict[str, Any], str, NewItemId], dict[str, Any]]] = {
    "message": _message,
    "item_reference": _reference,
    "function_call": _function_call,
    "function_call_output": _function_call_output,
    "custom_tool_call": _custom_tool_call,
    "custom_tool_call_output": _custom_tool_call_output,
    "additional_tools": _additional_tools,
    "reasoning": _reasoning,
    "mcp_approval_response": _approval_response,
    "compaction": _compaction,
}
