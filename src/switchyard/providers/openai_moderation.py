"""Any OpenAI-compatible ``/moderations`` upstream. The client's ``input`` goes as sent
(strings, or multimodal parts with images); the answer is read back into verdicts."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_moderations import decode_result
from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.moderation import ModerationInput, Verdict
from switchyard.providers.http_upstream import bearer_endpoint


def _malformed(why: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.UPSTREAM, f"Upstream sent a malformed moderation answer: {why}",
                           code="upstream_error")


def wire_form(inputs: list[ModerationInput]) -> list[Any]:
    """Inputs built here (the guardrail's) in the API's shape: one string each, or one
    multimodal array when there is a single input with images."""
    if len(inputs) == 1 and inputs[0].images:
        parts: list[Any] = [{"type": "text", "text": t} for t in inputs[0].texts]
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in inputs[0].images]
        return parts
    return [item.text for item in inputs]


class OpenAIModerator:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self._client, self._upstream = bearer_endpoint(config, "/moderations")

    async def moderate(self, inputs: list[ModerationInput], wire_input: Any | None = None) -> list[Verdict]:
        if len(inputs) > 1 and any(item.images for item in inputs):
            return [v for item in inputs for v in await self.moderate([item])]
        body = {"model": self.config.upstream_model,
                "input": wire_input if wire_input is not None else wire_form(inputs)}
        answer = await self._upstream.post_json(body)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(inputs):
            raise _malformed(f"expected {len(inputs)} results")
        try:
            return [decode_result(r, f"results[{i}]") for i, r in enumerate(results)]
        except SwitchyardError as exc:
            raise _malformed(exc.message) from exc

    async def aclose(self) -> None:
        await self._client.aclose()
