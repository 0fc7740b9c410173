"""Output items in the shape OpenAI sends them (``msg_…``, ``fc_…``, ``rs_…``)."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_responses.call import NewItemId
from switchyard.codecs.openai_responses.opaque import pack
from switchyard.codecs.openai_responses.tool_names import ToolKind, custom_input
from switchyard.core.events import TokenLogprob
from switchyard.core.items import FunctionCall, Item, Message, Reasoning, RefusalPart, TextPart


def output_text(text: str, logprobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs or []}


def refusal(text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def message_item(id: str, content: list[dict[str, Any]], status: str = "completed") -> dict[str, Any]:
    return {"id": id, "type": "message", "status": status, "content": content, "role": "assistant"}


def function_call_item(id: str, call_id: str, name: str, arguments: str, status: str = "completed",
                       kind: ToolKind | None = None) -> dict[str, Any]:
    """A ``function_call``, or for a custom tool a ``custom_tool_call`` with ``input``;
    a namespaced tool's call names its function and ``namespace`` apart."""
    if kind is not None and kind.kind == "custom":
        item = {"id": id, "type": "custom_tool_call", "status": status, "call_id": call_id,
                "name": kind.name, "input": custom_input(arguments) if arguments else ""}
    else:
        item = {"id": id, "type": "function_call", "status": status, "arguments": arguments, "call_id": call_id,
                "name": kind.name if kind is not None else name}
    if kind is not None and kind.namespace is not None:
        item["namespace"] = kind.namespace
    return item


def reasoning_item(
    id: str,
    *,
    text: str = "",
    summary: list[str] | None = None,
    signature: str | None = None,
    encrypted: str | None = None,
    pack_text: bool = False,
    signed_text: str | None = None,
) -> dict[str, Any]:
    """``content`` only when there is reasoning text; ``encrypted_content`` only when
    there is something opaque (see ``opaque`` for the signature convention; with
    ``pack_text`` the signed text travels there too: ``signed_text`` when the text was
    given as the summary, not as ``content``)."""
    item: dict[str, Any] = {
        "id": id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": s} for s in summary or []],
    }
    if text:
        item["content"] = [{"type": "reasoning_text", "text": text}]
    packed = pack(signature, encrypted, (signed_text or text) if pack_text else None)
    if packed is not None:
        item["encrypted_content"] = packed
    return item


def logprobs_out(logprobs: list[TokenLogprob]) -> list[dict[str, Any]]:
    """Logprobs of an ``output_text`` part (``bytes`` required there)."""
    return [
        {
            "token": lp.token,
            "logprob": lp.logprob,
            "bytes": lp.bytes if lp.bytes is not None else list(lp.token.encode()),
            "top_logprobs": [
                {"token": t.token, "logprob": t.logprob,
                 "bytes": t.bytes if t.bytes is not None else list(t.token.encode())}
                for t in lp.top
            ],
        }
        for lp in logprobs
    ]


def delta_logprobs(logprobs: list[TokenLogprob]) -> list[dict[str, Any]]:
    """Logprobs of an ``output_text.delta`` event."""
    return [
        {"token": lp.token, "logprob": lp.logprob,
         "top_logprobs": [{"token": t.token, "logprob": t.logprob} for t in lp.top]}
        for lp in logprobs
    ]


def items_to_output(items: list[Item], new_item_id: NewItemId,
                    tools: dict[str, ToolKind] | None = None) -> list[dict[str, Any]]:
    """Canonical items a model produced as output items (function call outputs and
    non-assistant messages are not output and are skipped). ``tools`` (from
    ``tool_kinds``) names custom and namespaced tools' calls as the client knows them."""
    kinds = tools or {}
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Message) and item.role == "assistant":
            parts = [output_text(p.text) if isinstance(p, TextPart) else refusal(p.refusal)
                     for p in item.content if isinstance(p, TextPart | RefusalPart)]
            out.append(message_item(new_item_id("msg_"), parts))
        elif isinstance(item, FunctionCall):
            out.append(function_call_item(item.id or new_item_id("fc_"), item.call_id, item.name, item.arguments,
                                          kind=kinds.get(item.name)))
        elif isinstance(item, Reasoning):
            out.append(reasoning_item(item.id or new_item_id("rs_"), text=item.text, summary=item.summary,
                                      signature=item.signature, encrypted=item.encrypted))
    return out
