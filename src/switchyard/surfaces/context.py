"""What a route handler gets: the services, the caller, and error rendering."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from switchyard.config import Settings
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.engine.file_inputs import FileInputs
from switchyard.engine.responses.service import ResponsesService
from switchyard.gateway.auth import Authenticator, Principal
from switchyard.gateway.deployment_service import DeploymentService
from switchyard.gateway.embedding_router import EmbeddingRegistry
from switchyard.gateway.router import ModelRegistry
from switchyard.retrieval.service import Retrieval
from switchyard.store.conversations import ConversationRepository
from switchyard.store.database import Database
from switchyard.store.keys import ApiKeyRepository
from switchyard.surfaces.disconnect import ClientGone, gone_response

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
    deployments: DeploymentService


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


Handler = Callable[[Request, Services, Principal], Awaitable[Response]]
Renderer = Callable[[SwitchyardError], Response]


def endpoint(render: Renderer) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Authenticate, run the handler, and render any error in the surface's shape."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def route(request: Request) -> Response:
            services = services_of(request)
            try:
                principal = await services.auth.authenticate(request.headers)
                return await handler(request, services, principal)
            except SwitchyardError as error:
                return render(error)
            except ClientGone:
                return gone_response()
            except Exception:
                log.exception("unhandled error in %s", request.url.path)
                return render(SwitchyardError(ErrorKind.SERVER, "Internal server error."))

        return route

    return decorate
