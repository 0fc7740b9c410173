"""What a route handler gets: the services, the caller, and error rendering."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response, StreamingResponse

from switchyard.config import Settings
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.engine.assistants.runs import RunService
from switchyard.engine.assistants.service import AssistantsService
from switchyard.engine.batches.service import BatchService
from switchyard.engine.containers.service import ContainerService
from switchyard.engine.file_inputs import FileInputs
from switchyard.engine.images.service import ImageService
from switchyard.engine.realtime.calls import RealtimeCalls
from switchyard.engine.realtime.client_secrets import ClientSecrets
from switchyard.engine.responses.service import ResponsesService
from switchyard.gateway.audio_router import AudioRegistry
from switchyard.gateway.auth import (
    PROJECT_HEADER,
    Authenticator,
    Principal,
    require_api_access,
    require_model,
)
from switchyard.gateway.call_scope import CallScope, entered
from switchyard.gateway.client_ip import ClientAddress
from switchyard.gateway.deployment_service import DeploymentService
from switchyard.gateway.embedding_router import EmbeddingRegistry
from switchyard.gateway.metering import Metering, metering
from switchyard.gateway.moderation import ModerationModels
from switchyard.gateway.router import ModelRegistry
from switchyard.gateway.telemetry.request_trace import CallServices, current_trace
from switchyard.retrieval.service import Retrieval
from switchyard.store.conversations import ConversationRepository
from switchyard.store.database import Database
from switchyard.store.keys import ApiKeyRepository
from switchyard.surfaces.disconnect import ClientGone, gone_response
from switchyard.surfaces.metered_response import MeteredResponse
from switchyard.tenancy.service import OrganizationService

log = logging.getLogger("switchyard")


@dataclass(slots=True)
class Services:
    settings: Settings
    database: Database
    keys: ApiKeyRepository
    auth: Authenticator
    models: ModelRegistry
    responses: ResponsesService
    conversations: ConversationRepository
    embeddings: EmbeddingRegistry
    retrieval: Retrieval
    file_inputs: FileInputs
    metering: Metering
    organization: OrganizationService
    client_address: ClientAddress
    call_services: CallServices
    deployments: DeploymentService
    audio: AudioRegistry
    moderation: ModerationModels
    images: ImageService
    batches: BatchService
    realtime_secrets: ClientSecrets
    assistants: AssistantsService
    runs: RunService
    containers: ContainerService
    realtime_calls: RealtimeCalls = field(default_factory=RealtimeCalls)


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def public_base_url(request: Request, services: Services) -> str:
    """This server's address as its clients reach it, for the links it writes:
    ``public_url`` when set (behind a proxy), else the request's own."""
    return services.settings.public_url or str(request.base_url)


ADMIN_PREFIX = "/v1/organization/"
INPROCESS_PRINCIPAL = "switchyard.principal"  # ASGI scope key of the console's in-process calls


async def caller(request: HTTPConnection, services: Services) -> Principal:
    """The authenticated caller. Admin keys reach only the administration API, which
    acts on the whole organization (so an ``OpenAI-Project`` header does not matter there).
    A call the console makes in process carries its principal in the ASGI scope, which no
    client can set."""
    injected = request.scope.get(INPROCESS_PRINCIPAL)
    if isinstance(injected, Principal):
        return injected
    peer = request.client.host if request.client is not None else None
    client_ip = services.client_address.resolve(peer, request.headers)
    if request.url.path.startswith(ADMIN_PREFIX):
        headers = {k: v for k, v in request.headers.items() if k != PROJECT_HEADER}
        return await services.auth.authenticate(headers, client_ip)
    principal = await services.auth.authenticate(request.headers, client_ip)
    require_api_access(principal)
    return principal


def allow_model(services: Services, principal: Principal, name: str) -> None:
    """403 ``model_not_found`` for a model outside the caller's key or project allowlist
    (checked against the name asked for and the public model an alias resolves to)."""
    route = services.models.find(name)
    require_model(principal, name, *((route.name,) if route is not None else ()))


Handler = Callable[[Request, Services, Principal], Awaitable[Response]]
Renderer = Callable[[SwitchyardError], Response]


def surface_of(handler: Handler) -> str:
    """``openai.chat`` for a handler in ``switchyard.surfaces.openai.chat``."""
    return handler.__module__.removeprefix("switchyard.surfaces.")


def endpoint(render: Renderer) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Authenticate, run the handler, and render any error in the surface's shape.

    The call scope (and its meter) is entered for the handler and again while the answer is
    sent (``MeteredResponse``): a streamed body runs after the handler returned, in the same
    request task or in tasks that copy its context."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        surface = surface_of(handler)

        @wraps(handler)
        async def route(request: Request) -> Response:
            services = services_of(request)
            try:
                principal = await caller(request, services)
            except Exception as error:
                return _rendered(error, request, render)
            trace = current_trace()
            if trace is not None:
                trace.project_id, trace.key_id = principal.owner_id, principal.key_id
            client = request.client
            scope = CallScope(principal, surface, client_ip=client.host if client else None)
            meter = services.metering.open(scope)
            with entered(scope), metering(meter):
                try:
                    response = await handler(request, services, principal)
                except Exception as error:
                    response = _rendered(error, request, render)
            if not meter.pending and not isinstance(response, StreamingResponse):
                return response  # no model call: nothing to meter
            return MeteredResponse(response, scope, meter)

        return route

    return decorate


def _rendered(error: Exception, request: Request, render: Renderer) -> Response:
    if isinstance(error, SwitchyardError):
        return render(error)
    if isinstance(error, ClientGone):
        return gone_response()
    log.error("unhandled error in %s", request.url.path, exc_info=error)
    return render(SwitchyardError(ErrorKind.SERVER, "Internal server error."))
