"""``truncation: "auto"``: drop the oldest items until the request fits the
model's context window, keeping leading instructions, the newest input, and
function calls together with their outputs."""

from __future__ import annotations

from dataclasses import replace

from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, Message
from switchyard.core.request import Request
from switchyard.gateway.router import Route
from switchyard.providers.token_count import estimate_tokens

DEFAULT_OUTPUT_RESERVE = 1024


async def count(route: Route, request: Request) -> int:
    if route.config.provider == "local":
        return await route.provider.count_tokens(request)
    return estimate_tokens(request)


def _drop_oldest(items: list[Item], keep_head: int) -> list[Item]:
    """Without the oldest droppable item (and the outputs of a call it was)."""
    victim = items[keep_head]
    rest = items[:keep_head] + items[keep_head + 1:]
    if isinstance(victim, FunctionCall):
        rest = [i for i in rest if not (isinstance(i, FunctionCallOutput) and i.call_id == victim.call_id)]
    while len(rest) > keep_head and isinstance(rest[keep_head], FunctionCallOutput):
        rest.pop(keep_head)
    return rest


async def fit(route: Route, request: Request) -> Request:
    window = route.config.window
    if window is None:
        return request
    budget = window - (request.max_output_tokens or min(DEFAULT_OUTPUT_RESERVE, window // 4))
    items = list(request.items)
    keep_head = 0
    while keep_head < len(items) and isinstance(items[keep_head], Message) \
            and items[keep_head].role in ("system", "developer"):
        keep_head += 1
    current = request
    while await count(route, current) > budget and len(items) > keep_head + 1:
        items = _drop_oldest(items, keep_head)
        current = replace(request, items=items)
    return current
