"""What every way into a realtime session shares (the WebSocket, WebRTC calls, client
secrets): who is calling, the session's starting configuration, and what the session
needs from the process."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from switchyard.codecs.openai_realtime.session import SessionConfig, apply_update, transcription_config
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.engine.realtime.client_secrets import is_client_secret
from switchyard.engine.realtime.context import RealtimeContext
from switchyard.gateway.auth import Principal, presented_keys
from switchyard.surfaces.context import Services, allow_model, caller
from switchyard.surfaces.observe import observed_call


def default_config(services: Services, model: str) -> SessionConfig:
    """GA defaults: audio out when a speech model is configured, else text."""
    speaks = services.audio.find(services.settings.realtime.speech_model) is not None
    return SessionConfig(model=model, output_modalities=("audio",) if speaks else ("text",))


def session_context(services: Services, principal: Principal) -> RealtimeContext:
    settings = services.settings
    return RealtimeContext(
        models=services.models, audio=services.audio, metering=services.metering, principal=principal,
        data_dir=settings.data_dir, transcription_model=settings.realtime.transcription_model,
        speech_model=settings.realtime.speech_model,
        check_model=lambda name: allow_model(services, principal, name),
        caller_live=lambda: services.realtime_secrets.caller_live(principal),
        transcribe_at_pauses=settings.realtime.transcribe_at_pauses,
        observe=lambda: observed_call(services.call_services, principal, "openai.realtime", "/v1/realtime"))


def session_config(services: Services, principal: Principal, model: str,
                   preset: dict[str, Any] | None) -> SessionConfig:
    """The session's starting configuration on a routed chat model (with a client secret's)."""
    allow_model(services, principal, model)
    services.models.resolve(model)
    config = default_config(services, model)
    if preset is not None:
        config = apply_update(config, {**preset, "model": model},
                              default_stt=services.settings.realtime.transcription_model)
    return config


def transcription_session_config(services: Services, principal: Principal, preset: dict[str, Any] | None
                          ) -> SessionConfig:
    """A transcription session's starting configuration (with a client secret's): no chat
    model; the transcription model must be one the caller may use."""
    stt = services.settings.realtime.transcription_model
    config = transcription_config(stt)
    if preset is not None:
        config = apply_update(config, preset, default_stt=stt)
    check_transcription_model(services, principal, config)
    return config


def check_transcription_model(services: Services, principal: Principal, config: SessionConfig,
                              param: str = "session.audio.input.transcription.model") -> None:
    name = config.transcription.model if config.transcription is not None else \
        services.settings.realtime.transcription_model
    try:
        allow_model(services, principal, name)
        services.audio.transcriber(name)
    except SwitchyardError as error:
        error.param = param
        raise


async def authenticate(connection: HTTPConnection, services: Services) -> tuple[Principal, dict[str, Any] | None]:
    """An API key's caller, or a client secret's caller and session."""
    keys = presented_keys(connection.headers)
    if keys and is_client_secret(keys[0]):
        opened = await services.realtime_secrets.open(keys[0])
        if opened is None:
            raise SwitchyardError(ErrorKind.AUTHENTICATION, "The client secret is not valid or has expired.",
                                  code="invalid_api_key")
        return opened
    return await caller(connection, services), None
