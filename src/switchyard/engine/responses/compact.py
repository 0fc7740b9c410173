"""``/v1/responses/compact``: the conversation so far as its user messages plus
one compaction item holding a model-written summary of everything else."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_responses import pack_summary, usage_out
from switchyard.core.items import text_message
from switchyard.core.result import afold
from switchyard.engine.file_inputs import FileInputs
from switchyard.engine.generation import generate
from switchyard.engine.responses.model_request import context_items, model_request
from switchyard.engine.responses.service import Prepared
from switchyard.store.ids import new_id

COMPACT_PROMPT = (
    "Summarize the conversation above for your own later use. Keep every fact, decision, name, "
    "number, open task and tool result that may still matter; drop pleasantries. "
    "Answer with the summary only."
)
SUMMARY_TOKENS = 1024


async def compact(p: Prepared, file_inputs: FileInputs | None = None) -> dict[str, Any]:
    wire = [*p.history, *p.input_items]
    items = [*context_items(p.call, p.history, p.input_items), text_message("user", COMPACT_PROMPT)]
    if file_inputs is not None:
        await file_inputs.resolve(items, p.owner_id)
    request = model_request(p.call, items, [], stream=False)
    request.max_output_tokens = min(request.max_output_tokens or SUMMARY_TOKENS, SUMMARY_TOKENS)
    request.response_format = None
    result = await afold(generate(p.route, request))
    summary = result.choices[0].text().strip() if result.choices else ""
    user_messages = [i for i in wire if i.get("type") == "message" and i.get("role") == "user"]
    compaction = {"id": new_id("cmp_"), "type": "compaction", "encrypted_content": pack_summary(summary)}
    return {
        "id": new_id("resp_"),
        "object": "response.compaction",
        "created_at": p.created_at,
        "output": [*user_messages, compaction],
        "usage": usage_out(result.usage),
    }
