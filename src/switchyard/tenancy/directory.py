"""Stored keys and projects as the authenticator's grants, cached in-process.

A grant is re-read from the database at most every ``ttl`` seconds; every write
through this process's ``OrganizationService`` clears the cache at once. A change
made by another process (another server, the CLI) is seen within ``ttl``."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar, cast

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
                           record.moderation_categories,
                           cast(GuardrailMode | None, record.moderation_output_mode))


class Directory:
    def __init__(self, keys: ApiKeyRepository, projects: ProjectRepository, ttl: float = 2.0) -> None:
        self._keys = keys
        self._projects = projects
        self._ttl = ttl
        self._key_cache: dict[str, tuple[float, KeyGrant | None]] = {}
        self._project_cache: dict[str, tuple[float, ProjectGrant | None]] = {}
        self._loading: dict[str, asyncio.Future[Any]] = {}
        self._generation = 0
        self._touching: set[asyncio.Task[None]] = set()

    def invalidate(self) -> None:
        self._generation += 1
        self._key_cache.clear()
        self._project_cache.clear()
        self._loading.clear()

    async def key_grant(self, secret: str) -> KeyGrant | None:
        async def load() -> KeyGrant | None:
            record = await self._keys.find_by_secret(secret)
            if record is None:
                return None
            self._touch(record)
            return key_grant(record)

        return await self._cached(self._key_cache, "key:" + hash_secret(secret), load)

    async def project_grant(self, project_id: str) -> ProjectGrant | None:
        async def load() -> ProjectGrant | None:
            record = await self._projects.get(project_id)
            if record is None:
                return None
            return project_grant(record, await self._projects.rate_limits(project_id))

        return await self._cached(self._project_cache, "project:" + project_id, load)

    async def _cached(self, cache: dict[str, tuple[float, G]], key: str, load: Callable[[], Awaitable[G]]) -> G:
        """The cached grant, or one read shared by every caller that missed it at once (a
        cache expiring under load must not send every request in flight to the database)."""
        cached = cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(cache, key, load))
            self._loading[key] = loading
        return cast(G, await asyncio.shield(loading))

    async def _load(self, cache: dict[str, tuple[float, G]], key: str, load: Callable[[], Awaitable[G]]) -> G:
        generation, now = self._generation, time.monotonic()
        try:
            value = await load()
        finally:
            if self._generation == generation:
                self._loading.pop(key, None)
        if self._generation == generation:  # not read before a write cleared the cache
            if len(cache) >= MAX_CACHED:
                cache.clear()
            cache[key] = (now, value)
        return value

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
