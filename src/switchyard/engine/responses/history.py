"""What a new response sees before its own input: the chain behind
``previous_response_id`` or the items of its conversation; and its input with
``item_reference`` items replaced by the items they name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


ItemLookup = Callable[[list[str]], Awaitable[dict[str, dict[str, Any]]]]


def _by_id(item: dict[str, Any]) -> str | None:
    """The id under which ``item`` stands for a stored item: an ``item_reference``, or a
    reasoning item sent back by id without its ``encrypted_content`` (as some clients do)."""
    item_id = item.get("id")
    if not isinstance(item_id, str):
        return None
    if item.get("type") == "item_reference":
        return item_id
    if item.get("type") == "reasoning" and item.get("encrypted_content") is None:
        return item_id
    return None


async def resolve_references(
    input_items: list[dict[str, Any]], history: list[dict[str, Any]], lookup: ItemLookup
) -> list[dict[str, Any]]:
    """``input_items`` with each reference replaced by the item it names: from ``history``
    first, else from ``lookup`` (the caller's stored items). An unknown reference is not
    found; a reasoning item that names nothing stored is kept as sent."""
    known = {item["id"]: item for item in history if isinstance(item.get("id"), str)}
    wanted = [i for item in input_items if (i := _by_id(item)) is not None and i not in known]
    if wanted:
        known.update(await lookup(wanted))
    resolved: list[dict[str, Any]] = []
    for index, item in enumerate(input_items):
        item_id = _by_id(item)
        target = known.get(item_id) if item_id is not None else None
        if item.get("type") == "item_reference":
            if target is None:
                raise SwitchyardError(ErrorKind.NOT_FOUND, f"Item with id '{item_id}' not found.",
                                      param=f"input[{index}].id")
            resolved.append(target)
        elif target is not None and target.get("type") == "reasoning":
            resolved.append(target)
        else:
            resolved.append(item)
    return resolved
