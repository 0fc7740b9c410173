"""Ephemeral client secrets (``POST /v1/realtime/client_secrets``): a short-lived key
(``ek_...``) that opens realtime sessions, and nothing else, as the caller who made it,
with the session configuration given when it was made. The caller is kept as a snapshot
(its project, key, limits, budgets and model lists at that moment) for the secret's life
(at most two hours); the key it was made with must still be live (not revoked, disabled or
expired) and its project not archived whenever the secret is used, and while a session it
opened runs."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from switchyard.codecs.openai_chat.fields import obj, opt_int, opt_str
from switchyard.codecs.openai_realtime.session import SessionConfig, apply_update, encode_session, transcription_config
from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal
from switchyard.gateway.principal_snapshot import restore, snapshot
from switchyard.store.keys import ApiKeyRepository
from switchyard.store.projects import ProjectRepository
from switchyard.store.realtime_secrets import RealtimeSecretRepository

PREFIX = "ek_"
MIN_SECONDS, MAX_SECONDS = 10, 7200


def is_client_secret(key: str) -> bool:
    return key.startswith(PREFIX)


class ClientSecrets:
    def __init__(self, repository: RealtimeSecretRepository, default_seconds: int, keys: ApiKeyRepository,
                 projects: ProjectRepository) -> None:
        self.repository = repository
        self.default_seconds = default_seconds
        self.keys = keys
        self.projects = projects

    async def caller_live(self, principal: Principal) -> bool:
        """Whether the caller may still call: its project is not archived, and its stored key
        (none for the master key) is not revoked, disabled or expired."""
        project = await self.projects.get(principal.owner_id)
        if project is None or project.archived:
            return False
        if principal.key_id is None:
            return True
        record = await self.keys.find_by_id(principal.key_id)
        if record is None or record.revoked or not record.settings.enabled:
            return False
        return record.settings.expires_at is None or record.settings.expires_at > datetime.now(UTC)

    async def create(self, principal: Principal, body: dict[str, Any], base: Callable[[str], SessionConfig],
                     check_model: Callable[[str], None], default_stt: str,
                     check_transcription: Callable[[SessionConfig], None]) -> dict[str, Any]:
        """The ``ClientSecretCreateResponse``; ``base(model)`` is a new session's defaults."""
        seconds = self.default_seconds
        if body.get("expires_after") is not None:
            after = obj(body["expires_after"], "expires_after")
            anchor = opt_str(after, "anchor", "expires_after") or "created_at"
            if anchor != "created_at":
                raise invalid("Invalid value for 'expires_after.anchor': only 'created_at' is supported.",
                              "expires_after.anchor", "invalid_value")
            given = opt_int(after, "seconds", "expires_after", lo=MIN_SECONDS, hi=MAX_SECONDS)
            seconds = seconds if given is None else given
        session = obj(body.get("session") if body.get("session") is not None else {"type": "realtime"}, "session")
        if session.get("type") == "transcription":
            model = None
            config = apply_update(transcription_config(default_stt), session, default_stt=default_stt)
            check_transcription(config)
        else:
            model = opt_str(session, "model", "session")
            config = apply_update(base(model or ""), session, default_stt=default_stt)
            if model:
                check_model(model)
        value = PREFIX + secrets.token_urlsafe(32).replace("-", "A").replace("_", "b")
        now = int(time.time())
        expires_at = now + seconds
        await self.repository.create(value, principal.owner_id, snapshot(principal), session, now, expires_at)
        wire = encode_session(config, "sess_" + secrets.token_hex(12), expires_at)
        if not model and config.kind == "realtime":
            wire["model"] = None
        return {"value": value, "expires_at": expires_at, "session": wire}

    async def open(self, secret: str) -> tuple[Principal, dict[str, Any]] | None:
        """The caller and the session configuration of a live secret, or None."""
        record = await self.repository.get(secret)
        if record is None:
            return None
        principal = restore(record.owner_id, record.caller)
        if not await self.caller_live(principal):
            return None
        return principal, record.session


def session_model(session: dict[str, Any]) -> str | None:
    value = session.get("model")
    return value if isinstance(value, str) and value else None

