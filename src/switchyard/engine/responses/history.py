"""What a new response sees before its own input: the chain behind
``previous_response_id`` or the items of its conversation; and its input with
``item_reference`` items replaced by the items they name."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.store.conversations import ConversationRepository
from switchyard.store.responses import ResponseRepository


def _not_found(what: str, id_: str, param: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"{what} with id '{id_}' not found.", param=param)


async def gather_history(
    call: Any, owner_id: str, responses: ResponseRepository, conversations: ConversationRepository
) -> list[dict[str, Any]]:
    if call.previous_response_id:  # unknown and another owner's alike: OpenAI's 400, not a 404
        previous = await responses.get(call.previous_response_id, owner_id)
        if previous is None:
            raise invalid(f"Previous response with id '{call.previous_response_id}' not found.",
                          "previous_response_id", "previous_response_not_found")
        if previous.status in ("queued", "in_progress"):
            raise SwitchyardError(
                ErrorKind.INVALID_REQUEST,
                f"Previous response '{previous.id}' is still {previous.status}; wait for it to finish.",
                param="previous_response_id",
            )
        return await responses.items_for_context(call.previous_response_id, owner_id)
    if call.conversation:
        conversation = await conversations.get(call.conversation, owner_id)
        if conversation is None:
            raise _not_found("Conversation", call.conversation, "conversation")
        return await conversations.all_items(call.conversation, owner_id)
    return []


def resolve_references(input_items: list[dict[str, Any]], history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = {item.get("id"): item for item in history if item.get("id")}
    resolved: list[dict[str, Any]] = []
    for index, item in enumerate(input_items):
        if item.get("type") != "item_reference":
            resolved.append(item)
            continue
        target = known.get(item.get("id"))
        if target is None:
            raise SwitchyardError(ErrorKind.NOT_FOUND, f"Item with id '{item.get('id')}' not found.",
                                  param=f"input[{index}].id")
        resolved.append(target)
    return resolved
