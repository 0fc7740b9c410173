"""The routing table: every public endpoint and the handler that serves it."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from switchyard.surfaces import health, metrics, models, rerank
from switchyard.surfaces.admin.routes import admin_routes
from switchyard.surfaces.anthropic import batches as message_batches
from switchyard.surfaces.anthropic import messages
from switchyard.surfaces.openai import (
    assistants,
    audio,
    batches,
    chat,
    completions,
    containers,
    conversations,
    embeddings,
    files,
    images,
    moderations,
    realtime,
    realtime_calls,
    responses,
    responses_ws,
    runs,
    threads,
    uploads,
    vector_store_files,
    vector_stores,
)
from switchyard.surfaces.openai import (
    messages as thread_messages,
)


def all_routes() -> list[BaseRoute]:
    return [
        Route("/health", health.health, methods=["GET"]),
        Route("/ready", health.ready, methods=["GET"]),
        Route("/metrics", metrics.metrics, methods=["GET"]),
        Route("/v1/models", models.list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", models.get_model, methods=["GET"]),
        Route("/v1/chat/completions", chat.create_chat_completion, methods=["POST"]),
        Route("/v1/completions", completions.create_completion, methods=["POST"]),
        Route("/v1/messages", messages.create_message, methods=["POST"]),
        Route("/v1/messages/count_tokens", messages.count_tokens, methods=["POST"]),
        *message_batches.ROUTES,
        *responses.ROUTES,
        WebSocketRoute("/v1/responses", responses_ws.responses_socket),
        WebSocketRoute("/v1/realtime", realtime.realtime_socket),
        *realtime.ROUTES,
        *realtime_calls.ROUTES,
        *conversations.ROUTES,
        *embeddings.ROUTES,
        *audio.ROUTES,
        *moderations.ROUTES,
        *images.ROUTES,
        *rerank.ROUTES,
        *files.ROUTES,
        *containers.ROUTES,
        *batches.ROUTES,
        *uploads.ROUTES,
        *vector_stores.ROUTES,
        *vector_store_files.ROUTES,
        *assistants.ROUTES,
        *runs.ROUTES,  # before threads: /v1/threads/runs is not a thread id
        *threads.ROUTES,
        *thread_messages.ROUTES,
        *admin_routes(),
    ]
