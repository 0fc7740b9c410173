"""/v1/threads/{thread_id}/runs and /v1/threads/runs: create (streamed or not),
create-and-run, list, retrieve, modify, cancel, submit_tool_outputs; and run steps.

A streamed answer is the ``AssistantStreamEvent`` sequence as SSE (``event: <name>``,
``data: <object>``), ended by ``event: done`` / ``data: [DONE]``; an error after the
stream began is an ``error`` event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_assistants.run_request import decode_create, decode_modify, decode_tool_outputs
from switchyard.codecs.openai_assistants.run_stream import AssistantsRunEncoder, StreamEvent
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.engine.assistants.runs import RunService
from switchyard.gateway.auth import Principal
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json, sse_frame, sse_response
from switchyard.surfaces.openai.assistants_common import page_of
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body
from switchyard.surfaces.streaming import with_keepalive

POLL_AFTER_MS = "200"  # the SDK's *_and_poll helpers wait this long between reads
KEEPALIVE = b": keep-alive\n\n"


def _service(services: Services) -> RunService:
    return services.runs


def _include(request: Request) -> list[str]:
    include = request.query_params.getlist("include[]") or request.query_params.getlist("include")
    for n, value in enumerate(include):
        if value != "step_details.tool_calls[*].file_search.results[*].content":
            raise invalid(f"Invalid value for 'include[{n}]': '{value}'.", "include")
    return include


def _answer(body: dict[str, Any], events: AsyncIterator[StreamEvent] | None, services: Services) -> Response:
    if events is None:
        return JSONResponse(body, headers={"openai-poll-after-ms": POLL_AFTER_MS})
    return sse_response(_frames(events, services.settings.stream_keepalive_seconds))


async def _frames(events: AsyncIterator[StreamEvent], keepalive: float) -> AsyncIterator[bytes]:
    stream = with_keepalive(None, events, keepalive)
    try:
        async for event in stream:
            if event is None:
                yield KEEPALIVE
                continue
            name, data = event
            yield sse_frame(data, name)
    except SwitchyardError as error:
        name, data = AssistantsRunEncoder.error(error)
        yield sse_frame(data, name)
    except Exception:  # a bug mid-stream: the client still learns the stream broke
        name, data = AssistantsRunEncoder.error(SwitchyardError(ErrorKind.SERVER, "The run's stream failed."))
        yield sse_frame(data, name)
    finally:
        await stream.aclose()
    yield b"event: done\ndata: [DONE]\n\n"


@endpoint(render_error)
async def create_run(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    params = decode_create(body)
    run, events = await _service(services).create(principal.owner_id, request.path_params["thread_id"], params,
                                                  include=_include(request))
    return _answer(run, events, services)


@endpoint(render_error)
async def create_thread_and_run(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    params = decode_create(body, and_thread=True)
    run, events = await _service(services).create_and_run(principal.owner_id, params, include=_include(request))
    return _answer(run, events, services)


@endpoint(render_error)
async def list_runs(request: Request, services: Services, principal: Principal) -> Response:
    runs, more = await _service(services).list(principal.owner_id, request.path_params["thread_id"], page_of(request))
    return JSONResponse(list_body(runs, more))


@endpoint(render_error)
async def get_run(request: Request, services: Services, principal: Principal) -> Response:
    run = await _service(services).get(principal.owner_id, request.path_params["thread_id"],
                                       request.path_params["run_id"])
    return JSONResponse(run, headers={"openai-poll-after-ms": POLL_AFTER_MS})


@endpoint(render_error)
async def modify_run(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes, allow_empty=True)
    run = await _service(services).modify(principal.owner_id, request.path_params["thread_id"],
                                          request.path_params["run_id"], decode_modify(body))
    return JSONResponse(run)


@endpoint(render_error)
async def cancel_run(request: Request, services: Services, principal: Principal) -> Response:
    run = await _service(services).cancel(principal.owner_id, request.path_params["thread_id"],
                                          request.path_params["run_id"])
    return JSONResponse(run, headers={"openai-poll-after-ms": POLL_AFTER_MS})


@endpoint(render_error)
async def submit_tool_outputs(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    outputs, stream = decode_tool_outputs(body)
    run, events = await _service(services).submit_tool_outputs(
        principal.owner_id, request.path_params["thread_id"], request.path_params["run_id"], outputs, stream)
    return _answer(run, events, services)


@endpoint(render_error)
async def list_steps(request: Request, services: Services, principal: Principal) -> Response:
    steps, more = await _service(services).list_steps(
        principal.owner_id, request.path_params["thread_id"], request.path_params["run_id"], page_of(request),
        _include(request))
    return JSONResponse(list_body(steps, more))


@endpoint(render_error)
async def get_step(request: Request, services: Services, principal: Principal) -> Response:
    step = await _service(services).get_step(
        principal.owner_id, request.path_params["thread_id"], request.path_params["run_id"],
        request.path_params["step_id"], _include(request))
    return JSONResponse(step)


ROUTES: list[Route] = [
    Route("/v1/threads/runs", create_thread_and_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs", create_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs", list_runs, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}", get_run, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}", modify_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", submit_tool_outputs, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/steps", list_steps, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}", get_step, methods=["GET"]),
]
