"""JSON Schemas of the Assistants run objects (``thread.run``, ``thread.run.step``,
``thread.message``) from the SDK's types, with the fields OpenAI's reference requires
(sent as null when empty) required: ``SHAPES[object]``."""

from __future__ import annotations

from openai.types.beta.threads import Message, Run
from openai.types.beta.threads.runs import RunStep

from tests.sdk_schema import validator

# Required (and nullable) in OpenAI's API reference: sent on every object, as null when empty.
ALWAYS_PRESENT = {
    Run: frozenset({"required_action", "last_error", "expires_at", "started_at", "cancelled_at", "failed_at",
                    "completed_at", "metadata", "usage", "incomplete_details", "max_prompt_tokens",
                    "max_completion_tokens", "truncation_strategy", "tool_choice", "response_format"}),
    RunStep: frozenset({"last_error", "expired_at", "cancelled_at", "failed_at", "completed_at", "metadata",
                        "usage"}),
    Message: frozenset({"incomplete_details", "completed_at", "incomplete_at", "assistant_id", "run_id",
                        "attachments", "metadata"}),
}
SHAPES = {"thread.run": validator(Run, ALWAYS_PRESENT), "thread.run.step": validator(RunStep, ALWAYS_PRESENT),
          "thread.message": validator(Message, ALWAYS_PRESENT)}
