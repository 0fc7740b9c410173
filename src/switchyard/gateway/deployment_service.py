"""Deployments managed through the admin API: stored with their credentials sealed,
and applied to the model registry without a restart — at once in the process that
made the change, within ``routing.refresh_seconds`` in every other process (each
re-reads the table and rebuilds only what changed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from switchyard.config import DeploymentConfig, ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.breaker import BreakerSettings, BreakerState
from switchyard.gateway.deployment_probe import ProbeResult, probe
from switchyard.gateway.deployments import Deployment, build_deployment
from switchyard.gateway.routed import RoutedProvider
from switchyard.gateway.router import ModelRegistry, RouteFactory
from switchyard.store.deployments import DeploymentRepository, StoredDeployment
from switchyard.store.ids import new_id
from switchyard.store.secret_box import SecretBox

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """A deployment as the admin API shows it: credentials only as a hint."""

    id: str
    model: str
    provider: str
    upstream_model: str
    base_url: str | None
    key_hint: str | None
    weight: float
    priority: int
    max_concurrency: int | None
    rpm: int | None
    tpm: int | None
    timeout: float | None
    source: str
    created_at: int | None
    breaker: BreakerState | None  # None: not (yet) applied in this process
    settings: BreakerSettings  # the deployment's own (None: the routing's)
    effective: BreakerSettings | None  # what its breaker in this process uses (None: not applied)


BREAKER_FIELDS = ("breaker_failures", "breaker_cooldown", "breaker_error_rate", "breaker_window",
                  "breaker_min_calls")


@dataclass(slots=True)
class _Built:
    version: int
    deployment: Deployment


@dataclass(slots=True)
class _Applied:
    built: dict[str, _Built] = field(default_factory=dict)
    api_models: set[str] = field(default_factory=set)


def key_hint(api_key: str | None) -> str | None:
    if not api_key:
        return None
    return f"{api_key[:3]}...{api_key[-4:]}" if len(api_key) >= 12 else "****"


class DeploymentService:
    def __init__(self, repository: DeploymentRepository, box: SecretBox, registry: ModelRegistry,
                 factory: RouteFactory, models: Sequence[ModelConfig]) -> None:
        self._repository = repository
        self._box = box
        self._registry = registry
        self._factory = factory
        self._models = {m.name: m for m in models}
        self._declared = {name: [d for d in registry.all_deployments() if d.model == name] for name in self._models}
        self._applied = _Applied()
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None

    # -- the admin API's operations ------------------------------------------------

    async def create(self, values: dict[str, Any]) -> DeploymentView:
        ident = new_id("dep_")
        now = time.time_ns()
        credentials = {"api_key": values.pop("api_key", None), "headers": values.pop("headers", None) or {}}
        record = StoredDeployment(
            id=ident, model=values["model"], provider=values["provider"], upstream_model=values["upstream_model"],
            base_url=values.get("base_url"), credentials=self._box.seal(credentials, ident),
            key_hint=key_hint(credentials["api_key"]), weight=values.get("weight", 1.0),
            priority=values.get("priority", 0), max_concurrency=values.get("max_concurrency"),
            rpm=values.get("rpm"), tpm=values.get("tpm"), timeout=values.get("timeout"),
            created_at=now // 1_000_000_000, updated_us=now // 1000,
            **{name: values.get(name) for name in BREAKER_FIELDS},
        )
        await self._repository.create(record)
        await self.refresh()
        return self._view_stored(record)

    async def update(self, deployment_id: str, values: dict[str, Any]) -> DeploymentView:
        self._refuse_declared(deployment_id)
        record = await self._stored(deployment_id)
        changes = dict(values)
        if "api_key" in changes or "headers" in changes:
            credentials = self._open(record)
            if "api_key" in changes:
                credentials["api_key"] = changes.pop("api_key")
                changes["key_hint"] = key_hint(credentials["api_key"])
            if "headers" in changes:
                credentials["headers"] = changes.pop("headers") or {}
            changes["credentials"] = self._box.seal(credentials, deployment_id)
        updated = await self._repository.update(deployment_id, changes)
        if updated is None:
            raise _not_found(deployment_id)
        await self.refresh()
        return self._view_stored(updated)

    async def delete(self, deployment_id: str) -> None:
        self._refuse_declared(deployment_id)
        if not await self._repository.delete(deployment_id):
            raise _not_found(deployment_id)
        await self.refresh()

    async def get(self, deployment_id: str) -> DeploymentView:
        deployment = self._registry.deployment(deployment_id)
        if deployment is not None and deployment.source == "config":
            return _view_declared(deployment)
        return self._view_stored(await self._stored(deployment_id))

    async def probe(self, deployment_id: str) -> ProbeResult:
        """One small request sent straight to the deployment (see ``deployment_probe``)."""
        deployment = self._registry.deployment(deployment_id)
        if deployment is None:
            raise _not_found(deployment_id)
        return await probe(deployment)

    async def list_all(self) -> list[DeploymentView]:
        """Declared deployments (in config order), then stored ones (by id)."""
        declared = [_view_declared(d) for ds in self._declared.values() for d in ds]
        return declared + [self._view_stored(r) for r in await self._repository.all()]

    # -- keeping the registry in step with the table --------------------------------

    async def refresh(self) -> None:
        async with self._lock:  # read and apply in order, so an older read never wins
            self._apply(await self._repository.all())

    def start(self, every: float) -> None:
        self._poller = asyncio.create_task(self._poll(every), name="deployments-refresh")

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for task in list(self._retiring):
            task.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)

    async def _poll(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.refresh()
            except Exception:
                log.exception("re-reading stored deployments failed")

    def _apply(self, rows: list[StoredDeployment]) -> None:
        previous = self._applied
        built: dict[str, _Built] = {}
        for row in rows:
            old = previous.built.get(row.id)
            if old is not None and old.version == row.updated_us:
                built[row.id] = old
                continue
            try:
                built[row.id] = _Built(row.updated_us, self._build(row))
            except Exception:
                log.exception("deployment %s cannot be built; it is left out", row.id)
                continue
            if old is not None:
                self._retire(old.deployment)
        for ident, old in previous.built.items():
            if ident not in built:
                self._retire(old.deployment)
        by_model: dict[str, list[Deployment]] = {}
        for entry in built.values():
            by_model.setdefault(entry.deployment.model, []).append(entry.deployment)
        for name in set(by_model) | previous.api_models:
            self._set_model(name, self._declared.get(name, []) + by_model.get(name, []))
        self._applied = _Applied(built, set(by_model))

    def _set_model(self, name: str, deployments: list[Deployment]) -> None:
        route = self._registry.exact(name)
        if not deployments:
            self._registry.remove(name)
            return
        if route is not None and isinstance(route.provider, RoutedProvider):
            if {id(d) for d in route.provider.deployments} != {id(d) for d in deployments}:
                route.provider.set_deployments(deployments)
            return
        first = deployments[0].config
        model = ModelConfig(name=name, provider=first.provider, model=first.upstream_model)
        self._registry.put(self._factory.routed(self._registry, model, deployments))

    def _build(self, row: StoredDeployment) -> Deployment:
        credentials = self._open(row)
        declared = DeploymentConfig(
            id=row.id, provider=row.provider, model=row.upstream_model,  # type: ignore[arg-type]
            base_url=row.base_url, api_key=credentials.get("api_key"), headers=credentials.get("headers") or None,
            timeout=row.timeout, weight=row.weight, priority=row.priority, max_concurrency=row.max_concurrency,
            rpm=row.rpm, tpm=row.tpm, **{name: getattr(row, name) for name in BREAKER_FIELDS},
        )
        base = self._models.get(row.model) or ModelConfig(name=row.model, provider=declared.provider or "openai")
        return build_deployment(base, declared, row.id, self._factory.routing, self._factory.providers, source="api")

    def _retire(self, deployment: Deployment) -> None:
        """Closes a replaced or removed deployment's connections once its requests are done."""

        async def close() -> None:
            while deployment.in_flight:
                await asyncio.sleep(0.5)
            await deployment.provider.aclose()

        task = asyncio.get_running_loop().create_task(close())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _open(self, record: StoredDeployment) -> dict[str, Any]:
        if record.credentials is None:
            return {"api_key": None, "headers": {}}
        opened = self._box.open(record.credentials, record.id)
        return dict(opened) if isinstance(opened, dict) else {"api_key": None, "headers": {}}

    def _refuse_declared(self, deployment_id: str) -> None:
        deployment = self._registry.deployment(deployment_id)
        if deployment is not None and deployment.source == "config":
            raise SwitchyardError(ErrorKind.INVALID_REQUEST,
                                  f"Deployment '{deployment_id}' is declared in the config file; change it there.",
                                  param="deployment_id")

    async def _stored(self, deployment_id: str) -> StoredDeployment:
        record = await self._repository.get(deployment_id)
        if record is None:
            raise _not_found(deployment_id)
        return record

    def _view_stored(self, record: StoredDeployment) -> DeploymentView:
        applied = self._registry.deployment(record.id)
        return DeploymentView(
            record.id, record.model, record.provider, record.upstream_model, record.base_url, record.key_hint,
            record.weight, record.priority, record.max_concurrency, record.rpm, record.tpm, record.timeout, "api",
            record.created_at, applied.breaker.state if applied is not None else None,
            BreakerSettings(record.breaker_failures, record.breaker_cooldown, record.breaker_error_rate,
                            record.breaker_window, record.breaker_min_calls),
            applied.breaker.settings if applied is not None else None,
        )


def _view_declared(deployment: Deployment) -> DeploymentView:
    config, limits = deployment.config, deployment.limits
    return DeploymentView(
        deployment.id, deployment.model, config.provider, config.upstream_model, config.base_url,
        key_hint(config.api_key), deployment.weight, deployment.priority, limits.max_concurrency, limits.rpm,
        limits.tpm, config.timeout, "config", None, deployment.breaker.state, deployment.breaker_overrides,
        deployment.breaker.settings,
    )


def _not_found(deployment_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No deployment with id '{deployment_id}'.",
                           param="deployment_id", code="not_found")
