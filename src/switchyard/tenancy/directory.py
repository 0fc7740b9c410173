"""Stored keys and projects as the authenticator's grants, cached in-process.

A grant is re-read from the database at most every ``ttl`` seconds; every write
through this process's ``OrganizationService`` clears the cache at once. A change
made by another process (another server, the CLI) is seen within ``ttl``."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TypeVar, cast

from switchyard.gateway.grants import (
    BudgetInterval,
    GuardrailMode,
    GuardrailPolicy,
    IpNetwork,
    KeyGrant,
    KeyKind,
    Limits,
    ProjectGrant,
)
from switchyard.store.keys import ApiKeyRecord, ApiKeyRepository, hash_secret
from switchyard.store.projects import ProjectRecord, ProjectRepository, RateLimitRecord

log = logging.getLogger(__name__)

G = TypeVar("G")
MAX_CACHED = 10_000
TOUCH_EVERY = timedelta(seconds=60)


def _networks(cidrs: tuple[str, ...] | None) -> tuple[IpNetwork, ...] | None:
    if cidrs is None:
        return None
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def key_grant(record: ApiKeyRecord) -> KeyGrant:
    s = record.settings
    return KeyGrant(
        id=record.id, kind=cast(KeyKind, record.kind), project_id=record.owner_id, enabled=s.enabled,
        expires_at=s.expires_at, allowed_models=s.allowed_models, allowed_networks=_networks(s.allowed_ips),
        limits=Limits(s.rpm_limit, s.tpm_limit, s.concurrency_limit), budget_usd=s.budget_usd,
        budget_interval=cast(BudgetInterval | None, s.budget_interval),
    )


def project_grant(record: ProjectRecord, rate_limits: list[RateLimitRecord]) -> ProjectGrant:
    return ProjectGrant(
        id=record.id, archived=record.archived,
        limits=Limits(record.rpm_limit, record.tpm_limit, record.concurrency_limit),
        model_limits=MappingProxyType({
            r.model: Limits(r.rpm_limit, r.tpm_limit, r.concurrency_limit) for r in rate_limits}),
        budget_usd=record.budget_usd, budget_interval=cast(BudgetInterval | None, record.budget_interval),
        allowed_models=record.model_ids if record.model_mode == "allow_list" else None,
        denied_models=record.model_ids if record.model_mode == "deny_list" else (),
        guardrail=guardrail_policy(record),
    )


def guardrail_policy(record: ProjectRecord) -> GuardrailPolicy | None:
    if record.moderation_mode is None:
        return None
    return GuardrailPolicy(cast(GuardrailMode, record.moderation_mode), record.moderation_model,
                           record.moderation_categories)


class Directory:
    def __init__(self, keys: ApiKeyRepository, projects: ProjectRepository, ttl: float = 2.0) -> None:
        self._keys = keys
        self._projects = projects
        self._ttl = ttl
        self._key_cache: dict[str, tuple[float, KeyGrant | None]] = {}
        self._project_cache: dict[str, tuple[float, ProjectGrant | None]] = {}
        self._touching: set[asyncio.Task[None]] = set()

    def invalidate(self) -> None:
        self._key_cache.clear()
        self._project_cache.clear()

    async def key_grant(self, secret: str) -> KeyGrant | None:
        digest = hash_secret(secret)
        now = time.monotonic()
        cached = self._key_cache.get(digest)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        record = await self._keys.find_by_secret(secret)
        grant = None if record is None else key_grant(record)
        self._remember(self._key_cache, digest, (now, grant))
        if record is not None:
            self._touch(record)
        return grant

    async def project_grant(self, project_id: str) -> ProjectGrant | None:
        now = time.monotonic()
        cached = self._project_cache.get(project_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        record = await self._projects.get(project_id)
        grant = None if record is None else project_grant(record, await self._projects.rate_limits(project_id))
        self._remember(self._project_cache, project_id, (now, grant))
        return grant

    @staticmethod
    def _remember(cache: dict[str, tuple[float, G]], key: str, entry: tuple[float, G]) -> None:
        if len(cache) >= MAX_CACHED:
            cache.clear()
        cache[key] = entry

    def _touch(self, record: ApiKeyRecord) -> None:
        """``last_used_at``, written off the request path and at most once a minute."""
        if record.last_used_at is not None and datetime.now(UTC) - record.last_used_at < TOUCH_EVERY:
            return
        task = asyncio.get_running_loop().create_task(self._write_touch(record.id))
        self._touching.add(task)
        task.add_done_callback(self._touching.discard)

    async def _write_touch(self, key_id: str) -> None:
        try:
            await self._keys.touch(key_id)
        except Exception:
            log.exception("recording last use of key %s failed", key_id)
