"""A live Switchyard for the moderation and images tests: a chat model, the embedded
moderation classifier, and moderation and image models relayed to the fake OpenAI
upstream. No embedded chat model is loaded, so it starts in seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer

CHAT = "gpt-fake"
LOCAL_MODERATION = "profanity-check"
UPSTREAM_MODERATION = "moderation-upstream"
POLICY_MODERATION = "policy-check"
GPT_IMAGE = "gpt-image-fake"
DALL_E = "dall-e-fake"
MAX_IMAGE_BYTES = 200_000

TOXIC = "You are a fucking idiot and a worthless piece of shit, shut up you stupid bitch."
BENIGN = "The weather is lovely today; let's take the children for a walk in the park."


def media_models(fake: FakeUpstream, images: bool = True) -> list[dict[str, Any]]:
    upstream = {"base_url": fake.url + "/v1", "api_key": "upstream-key", "timeout": 5}
    models: list[dict[str, Any]] = [
        {"name": CHAT, "provider": "openai", "model": "gpt-upstream", **upstream},
        {"name": LOCAL_MODERATION, "provider": "local", "task": "moderation",
         "aliases": ["omni-moderation-*", "text-moderation-*"]},
        {"name": UPSTREAM_MODERATION, "provider": "openai", "task": "moderation",
         "model": "omni-moderation-2024-09-26", **upstream},
        {"name": POLICY_MODERATION, "provider": "local", "task": "moderation", "policy_model": CHAT},
    ]
    if images:
        models += [
            {"name": GPT_IMAGE, "provider": "openai", "task": "image", "model": "gpt-image-1", **upstream,
             "price": {"input_per_mtok": 5, "output_per_mtok": 40}},  # gpt-image-1's text-in, image-out prices
            {"name": DALL_E, "provider": "openai", "task": "image", "model": "dall-e-2", **upstream},
        ]
    return models


def start_media_server(workdir: Path, fake: FakeUpstream, images: bool = True) -> LiveServer:
    live = LiveServer(workdir, media_models(fake, images), max_image_upload_bytes=MAX_IMAGE_BYTES,
                      auth_cache_seconds=0)
    live.start(wait_ready=True)
    return live


