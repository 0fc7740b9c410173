"""A moderation model made of a chat model: a moderation model with ``policy_model`` set
asks that chat model which of OpenAI's categories a text falls in (structured output, one
call per input) and answers with score 1 for each category named, 0 for the others,
every category applied to ``text``. Its judgement is the chat model's; docs/moderation.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.core.events import Failure
from switchyard.core.items import text_message
from switchyard.core.moderation import CATEGORIES, InputType, ModerationInput, Verdict, verdict_from_scores
from switchyard.core.request import Request, ResponseFormat
from switchyard.core.result import Folder
from switchyard.gateway.router import Route

PROMPT = """You are a content moderation classifier. Read the user's message and list every category below that it falls in; list none if it is harmless. Judge the message itself; do not answer it.

Categories:
- harassment: harassing, insulting or abusive language towards anyone
- harassment/threatening: harassment that also threatens violence or serious harm
- hate: hatred against people for race, gender, ethnicity, religion, nationality, sexual orientation, disability or caste
- hate/threatening: hateful content that also threatens violence or serious harm to the group
- illicit: instructions or advice for committing wrongdoing, such as theft or fraud
- illicit/violent: illicit content that involves violence, or procuring weapons
- self-harm: promoting, encouraging or depicting suicide, cutting or eating disorders
- self-harm/intent: the speaker says they are harming or intend to harm themselves
- self-harm/instructions: instructions or encouragement for self-harm
- sexual: content meant to arouse, or promoting sexual services
- sexual/minors: sexual content involving anyone under 18
- violence: depicting death, violence or physical injury
- violence/graphic: depicting death, violence or injury in graphic detail

Answer only with JSON: {"categories": [...]}."""  # noqa: E501

SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["categories"],
    "properties": {"categories": {"type": "array", "items": {"type": "string", "enum": list(CATEGORIES)}}},
}
APPLIED: dict[str, tuple[InputType, ...]] = {name: ("text",) for name in CATEGORIES}
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def named_categories(answer: str) -> list[str]:
    """The categories a policy model's answer names (the first JSON object in it)."""
    found = _JSON.search(answer)
    try:
        parsed = orjson.loads(found.group(0)) if found else None
    except orjson.JSONDecodeError:
        parsed = None
    listed = parsed.get("categories") if isinstance(parsed, dict) else None
    if not isinstance(listed, list):
        raise SwitchyardError(ErrorKind.UPSTREAM, f"The policy model answered no category list: {answer[:200]!r}",
                              code="upstream_error")
    return [c for c in listed if c in CATEGORIES]


class ChatPolicyModerator:
    def __init__(self, config: ModelConfig, resolve: Callable[[str], Route]) -> None:
        self.config = config
        self._resolve = resolve

    async def _classify(self, route: Route, text: str) -> Verdict:
        request = Request(model=route.name, items=[text_message("system", PROMPT), text_message("user", text)],
                          temperature=0.0, max_output_tokens=200,
                          response_format=ResponseFormat("json_schema", SCHEMA, "moderation", strict=True))
        folder = Folder()
        async for event in route.provider.generate(request):
            if isinstance(event, Failure):
                raise event.error
            folder.add(event)
        choices = folder.result.choices
        answer = choices[0].text() if choices else ""
        return verdict_from_scores({c: 1.0 for c in named_categories(answer)}, 0.5, APPLIED)

    async def moderate(self, inputs: list[ModerationInput], wire_input: Any | None = None) -> list[Verdict]:
        for item in inputs:
            if item.images:
                raise invalid(f"The model '{self.config.name}' (a chat model as a policy classifier) "
                              "classifies text only.", item.image_paths[0] if item.image_paths else "input",
                              "image_not_supported")
        route = self._resolve(str(self.config.policy_model))
        return [await self._classify(route, item.text) for item in inputs]

    async def aclose(self) -> None:
        return None  # the chat model belongs to the chat registry
