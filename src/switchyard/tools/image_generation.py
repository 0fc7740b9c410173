"""The ``image_generation`` tool: the model asks for an image with a prompt, the
configured image model makes it, and the run shows it as an ``ImageGenerationCall``
(partial images first, when the run is streamed and the request asked for them); the
model is only told that it was made. A failed image fails the item, not the run."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import ItemDone, ItemProgress, ItemStart
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart
from switchyard.core.request import Tool
from switchyard.core.tool_config import ImageGenerationConfig
from switchyard.core.tool_items import BuiltinItem, ImageGenerationCall, ImageSettings, PartialImage, ToolError
from switchyard.tools.builtin import BuiltinTool, RunScope, ToolKind, ToolServices, ToolStep, text_argument
from switchyard.tools.image_maker import ImageMaker

NAME = "image_generation"
MADE = "The image was generated and shown to the user."

TOOL = Tool(
    name=NAME,
    description="Generate an image and show it to the user. Describe the image in detail in 'prompt'.",
    parameters={"type": "object", "additionalProperties": False, "required": ["prompt"],
                "properties": {"prompt": {"type": "string", "description": "What the image shows, in detail."}}},
)


def prompt_of(call: FunctionCall) -> str:
    return text_argument(call, "prompt")


def settings_of(answer: dict[str, Any]) -> ImageSettings:
    def text(key: str) -> str | None:
        value = answer.get(key)
        return value if isinstance(value, str) else None

    return ImageSettings(background=text("background"), output_format=text("output_format"),
                         quality=text("quality"), size=text("size"))


class ImageGeneration:
    def __init__(self, scope: RunScope, config: ImageGenerationConfig, images: ImageMaker | None) -> None:
        self.scope = scope
        self.config = config
        self.images = images

    async def prepare(self) -> list[Item]:
        return []

    def offers(self) -> list[Tool]:
        return [TOOL]

    def handles(self, name: str) -> bool:
        return name == NAME

    async def run(self, call: FunctionCall) -> ToolStep:
        self.scope.count_tool_call()
        item = ImageGenerationCall(self.scope.new_id("ig_"), status="in_progress")
        await self.scope.emit(ItemStart(item))
        prompt = prompt_of(call)
        try:
            if self.images is None:
                raise SwitchyardError(ErrorKind.INVALID_REQUEST, "no image model is configured")
            if self.config.partial_images and self.scope.streamed:
                answer = await self._streamed(item.id, self.images, prompt)
            else:
                answer = await self.images.generate_inline(self.config.model, prompt, self.config.options,
                                                           self.scope.owner_id)
        except SwitchyardError as exc:
            error = ToolError(exc.message, exc.kind.value, exc.code, exc.param)
            done = ImageGenerationCall(item.id, status="failed", error=error)
            text = f"Image generation failed: {exc.message}"
        else:
            b64 = answer.get("b64_json")
            revised = answer.get("revised_prompt")
            done = ImageGenerationCall(item.id, status="completed", result=b64 if isinstance(b64, str) else None,
                                       revised_prompt=revised if isinstance(revised, str) and revised else prompt,
                                       settings=settings_of(answer))
            text = MADE
        await self.scope.emit(ItemDone(done))
        return ToolStep([FunctionCallOutput(call.call_id, [TextPart(text)], is_error=done.error is not None)])

    async def _streamed(self, item_id: str, images: ImageMaker, prompt: str) -> dict[str, Any]:
        """The completed image's fields; its partial images shown as they come."""
        completed: dict[str, Any] | None = None
        async for event in images.stream_inline(self.config.model, prompt, self.config.options,
                                                self.config.partial_images):
            kind = event.get("type")
            if kind == "image_generation.partial_image" and isinstance(event.get("b64_json"), str):
                index = event.get("partial_image_index")
                partial = PartialImage(index if isinstance(index, int) else 0, event["b64_json"], settings_of(event))
                await self.scope.emit(ItemProgress(item_id, partial))
            elif kind == "image_generation.completed":
                completed = event
            elif kind == "error":
                raise SwitchyardError(ErrorKind.UPSTREAM, str((event.get("error") or {}).get("message") or event))
        if completed is None:
            raise SwitchyardError(ErrorKind.UPSTREAM, "the image stream ended without its completed image")
        return completed


async def _open(scope: RunScope, services: ToolServices) -> BuiltinTool | None:
    config = scope.configs.image_generation
    return None if config is None else ImageGeneration(scope, config, services.images)


def replay(item: BuiltinItem) -> list[Item]:
    """A past image as the model's call of ``image_generation`` and its outcome (the image
    itself was the user's)."""
    assert isinstance(item, ImageGenerationCall)
    call = FunctionCall(call_id=item.id, name=NAME,
                        arguments=orjson.dumps({"prompt": item.revised_prompt or ""}).decode())
    done = item.status == "completed"
    text = MADE if done else "Image generation failed."
    return [call, FunctionCallOutput(call_id=item.id, output=[TextPart(text)], is_error=not done)]


IMAGE_GENERATION = ToolKind(NAME, _open, {ImageGenerationCall: replay})
