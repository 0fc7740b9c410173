"""Builds the services one server process runs, and takes them down again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import make_url

from switchyard.codecs.openai_responses import decode_request as decode_responses_request
from switchyard.config import ModelConfig, SandboxConfig, Settings
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.engine.assistants.run_driver import RunSettings
from switchyard.engine.assistants.run_files import ImageFiles
from switchyard.engine.assistants.run_segment import SegmentDeps
from switchyard.engine.assistants.run_work import RunWork
from switchyard.engine.assistants.runs import RunService
from switchyard.engine.assistants.service import AssistantsService
from switchyard.engine.batches.lines import LineRunner
from switchyard.engine.batches.service import BatchService
from switchyard.engine.batches.work import BatchWork, ModelSlots
from switchyard.engine.batches.work import Limits as BatchLimits
from switchyard.engine.containers.service import ContainerService
from switchyard.engine.file_inputs import FileInputs
from switchyard.engine.images.links import ImageLinks
from switchyard.engine.images.service import ImageService
from switchyard.engine.realtime.client_secrets import ClientSecrets
from switchyard.engine.responses.live import EventSignals
from switchyard.engine.responses.runner import BackgroundWork
from switchyard.engine.responses.service import ResponsesService
from switchyard.gateway.audio_router import AudioRegistry
from switchyard.gateway.auth import Authenticator, Limits
from switchyard.gateway.client_ip import ClientAddress
from switchyard.gateway.deployment_service import DeploymentService
from switchyard.gateway.embedding_router import EmbeddingRegistry
from switchyard.gateway.limits import Limiter, build_store
from switchyard.gateway.limits.deployments import StoreDeploymentGate
from switchyard.gateway.limits.redis_store import RedisLimitStore
from switchyard.gateway.metering import Metering
from switchyard.gateway.moderation import ModerationModels
from switchyard.gateway.router import build_registry
from switchyard.gateway.telemetry.metrics import Metrics
from switchyard.gateway.telemetry.request_trace import CallServices
from switchyard.jobs import InProcessRunner, JobRunner, LeasedWork
from switchyard.jobs.queue_pool import QueuePool
from switchyard.net.egress import EgressPolicy
from switchyard.providers.base import Embedder
from switchyard.providers.registry import build_provider
from switchyard.retrieval.ingest import Ingester
from switchyard.retrieval.search import VectorStoreSearch
from switchyard.retrieval.service import Retrieval
from switchyard.sandbox import SandboxError, SandboxLimits, SandboxPool, SandboxSettings
from switchyard.store.batches import BatchRepository
from switchyard.store.blobs import BlobStore, request_upload_stores
from switchyard.store.conversations import ConversationRepository
from switchyard.store.database import Database
from switchyard.store.deployments import DeploymentRepository
from switchyard.store.files import FileRepository, purge_expired
from switchyard.store.images import ImageRepository
from switchyard.store.keys import ApiKeyRepository
from switchyard.store.notices import PgNotices
from switchyard.store.projects import ProjectRepository
from switchyard.store.realtime_secrets import RealtimeSecretRepository
from switchyard.store.response_events import ResponseEventLog
from switchyard.store.responses import ResponseRecord, ResponseRepository
from switchyard.store.runs import RunRepository
from switchyard.store.secret_box import SecretBox, server_secret
from switchyard.store.vector_stores import VectorStoreRecord
from switchyard.surfaces.batch_lines import line_calls
from switchyard.surfaces.context import Services
from switchyard.tenancy.directory import Directory
from switchyard.tenancy.service import OrganizationService
from switchyard.tools.builtin import ToolServices
from switchyard.tools.mcp import McpClient

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import redis.asyncio as aioredis


PURGE_EVERY_SECONDS = 600.0
LEASE_WATCH_SECONDS = 0.25  # a running batch reads its row for a cancel this often (SQLite, or no queue)
QUEUE_WATCH_SECONDS = 5.0  # on the queue a cancel is pushed; reading the row is only the fallback


@dataclass(slots=True)
class Workers:
    runner: JobRunner  # background responses
    batch_runner: JobRunner
    mcp: McpClient
    purger: asyncio.Task[None]
    run_runner: JobRunner  # Assistants runs
    sandboxes: SandboxPool | None = None
    notices: PgNotices | None = None


async def _purge_expired_files(database: Database, blobs: BlobStore, images: ImageService) -> None:
    """Expired files, stale uploads and expired images go, with their bytes, every few minutes."""
    repo = FileRepository(database)
    while True:
        try:
            await purge_expired(repo, blobs)
            await images.purge_expired()
        except Exception:
            log.exception("purging expired files failed")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


def decode_stored_request(record: ResponseRecord, body: dict[str, Any]) -> Any:
    """A queued background response's call, with its input as resolved when it was queued."""
    call = decode_responses_request(body)
    call.input_items = list(record.request["input_items"])
    return call


def _call_services(settings: Settings) -> CallServices:
    limits = settings.rate_limits
    store = build_store(settings.redis_url, prefix=limits.redis_prefix, lease_seconds=limits.lease_seconds)
    limiter = Limiter(store, key_defaults=Limits(**limits.default_key_limits.model_dump()),
                      project_defaults=Limits(**limits.default_project_limits.model_dump()))
    tracing = None
    if settings.otlp_endpoint:
        from switchyard.gateway.telemetry.tracing import Tracing

        tracing = Tracing(settings.otlp_endpoint)
    return CallServices(Metrics(), limiter, tracing)


def _shared_redis(settings: Settings, call_services: CallServices) -> str | aioredis.Redis | None:
    """The rate limits' Redis connection, which budgets share (the limiter closes it)."""
    store = call_services.limiter.store if call_services.limiter is not None else None
    return store.client if isinstance(store, RedisLimitStore) else settings.redis_url


def _retrieval(settings: Settings, database: Database, embeddings: EmbeddingRegistry) -> Retrieval:
    default = settings.embedding_model

    def embedder_for(store: VectorStoreRecord) -> Embedder:
        name = store.embedding_model or default
        if name is None:
            raise SwitchyardError(ErrorKind.INVALID_REQUEST, "No embedding model is configured for vector stores.",
                                  param="model")
        return embeddings.embedder(name)

    search = VectorStoreSearch(database, embedder_for, index_dir=Path(settings.data_dir) / "vector_index",
                               ann_min_chunks=settings.vector_index_min_chunks)
    ingester = Ingester(database, BlobStore(settings.resolved_files_dir), embedder_for,
                        on_indexed=search.stores_changed, lease_seconds=settings.ingest_lease_seconds)
    return Retrieval(ingester, search, default)


def _batch_cap(model: ModelConfig) -> int | None:
    if model.batch_concurrency is not None:
        return model.batch_concurrency
    if model.provider == "local" and model.task == "chat":
        return max(1, model.slots // 2)
    return None


def _batch_runner(settings: Settings, services: Services, metering: Metering,
                  call_services: CallServices, queue: QueuePool | None) -> JobRunner:
    config = settings.batches
    lines = LineRunner(metering, call_services, retries=config.retries, backoff_seconds=config.retry_backoff,
                       wait_max=config.retry_wait_max)
    limits = BatchLimits(per_batch=config.concurrency_per_batch, per_model=config.concurrency_per_model,
                         max_lines=config.max_lines, log_every=config.progress_log_every,
                         max_attempts=config.max_attempts)
    caps = {m.name: cap for m in settings.models if (cap := _batch_cap(m)) is not None}

    def canonical(name: str) -> str:
        route = services.models.find(name)
        return route.name if route is not None else name

    work = BatchWork(services.batches.repo, FileRepository(services.database), BlobStore(settings.resolved_files_dir),
                     line_calls(services), lines, limits,
                     model_slots=ModelSlots(config.concurrency_per_model, caps, canonical),
                     watch_seconds=QUEUE_WATCH_SECONDS if queue else LEASE_WATCH_SECONDS)
    return _job_runner(work, queue, concurrency=config.running_batches, lease_seconds=config.lease_seconds)


def _job_runner(work: LeasedWork[Any], queue: QueuePool | None, *, concurrency: int,
                lease_seconds: float) -> JobRunner:
    """PgQueuer's queue on PostgreSQL (``queue``: the process's connections for it), else
    the lease runner."""
    if queue is not None:
        from switchyard.jobs.queue_runner import QueueRunner

        return QueueRunner(work, pool=queue, concurrency=concurrency, lease_seconds=lease_seconds)
    return InProcessRunner(work, concurrency=concurrency, lease_seconds=lease_seconds)


def _job_queue(settings: Settings, database: Database) -> QueuePool | None:
    """The connections PgQueuer's workers share, when durable jobs run on its queue."""
    if settings.job_queue != "auto" or database.dialect != "postgresql":
        return None
    return QueuePool(make_url(settings.resolved_database_url).set(drivername="postgresql").render_as_string(
        hide_password=False))


def sandbox_settings(config: SandboxConfig) -> SandboxSettings:
    limits = SandboxLimits(cpu_seconds=config.cpu_seconds, wall_seconds=config.wall_seconds,
                           memory_bytes=config.memory_mb * 1024**2, processes=config.processes,
                           file_bytes=config.file_mb * 1024**2, disk_bytes=config.disk_mb * 1024**2,
                           output_bytes=config.output_kb * 1024)
    return SandboxSettings(limits=limits, warm=config.warm, max_sessions=config.max_sessions,
                           idle_seconds=config.idle_seconds, user=config.user)


async def _sandboxes(config: SandboxConfig) -> SandboxPool | None:
    """The code interpreter's pool, or None when it is off or cannot run here."""
    if not config.enabled:
        return None
    pool = SandboxPool(sandbox_settings(config))
    try:
        await pool.start()
    except SandboxError as exc:
        log.warning("code interpreter off: %s", exc)
        return None
    return pool


async def open_services(settings: Settings, master_key: str) -> tuple[Services, Workers]:
    database = Database(settings.resolved_database_url)
    await database.start()
    keys = ApiKeyRepository(database)
    directory = Directory(keys, ProjectRepository(database), ttl=settings.auth_cache_seconds)
    organization = OrganizationService(database, on_change=directory.invalidate)
    await organization.projects.ensure_default()
    chat_models = [m for m in settings.models if m.task == "chat"]
    call_services = _call_services(settings)
    metrics = call_services.metrics
    gate = StoreDeploymentGate(call_services.limiter.store, metrics) if call_services.limiter else None
    registry, route_factory = build_registry(chat_models, settings.routing,
                                             lambda m: build_provider(m, Path(settings.data_dir)),
                                             gate=gate, observer=metrics)
    metrics.watch_deployments(registry.deployment_states)
    call_services.moderation = ModerationModels(list(settings.models), registry)
    secret = server_secret(Path(settings.data_dir), settings.secret_key)
    box = SecretBox(secret)
    deployments = DeploymentService(DeploymentRepository(database), box, registry, route_factory, chat_models)
    await deployments.refresh()
    embeddings = EmbeddingRegistry.from_settings(settings)
    retrieval = _retrieval(settings, database, embeddings)
    ingester = retrieval.ingester
    queue = _job_queue(settings, database)
    ingester.runner = _job_runner(ingester, queue, concurrency=ingester.concurrency,
                                  lease_seconds=ingester.lease_seconds)
    conversations = ConversationRepository(database)
    metering = Metering(database, settings.metering, redis=_shared_redis(settings, call_services))
    mcp = McpClient(egress=EgressPolicy(settings.egress_allowlist))
    images = ImageService(list(settings.models), ImageRepository(database), BlobStore(settings.resolved_files_dir),
                          ImageLinks(secret), settings.image_url_ttl_seconds)
    file_inputs = FileInputs(FileRepository(database), BlobStore(settings.resolved_files_dir), settings.max_body_bytes)
    sandboxes = await _sandboxes(settings.sandbox)
    containers = ContainerService(sandboxes, FileRepository(database), BlobStore(settings.resolved_files_dir),
                                  max_file_bytes=settings.sandbox.file_mb * 1024**2)
    signals = EventSignals(settings.follow_poll_seconds)
    notices = None
    if database.dialect == "postgresql":
        notices = PgNotices(database, signals.heard)
        signals.connect(notices.publish)
        notices.start()
    responses = ResponsesService(
        registry, ResponseRepository(database),
        ResponseEventLog(database, max_events_per_response=settings.response_event_buffer),
        conversations, mcp, signals, retrieval=retrieval, file_inputs=file_inputs,
        secrets=box, images=images, containers=containers,
    )
    async def queue_depth() -> None:
        call_services.metrics.queue_depth.set(await responses.responses.count_queued())

    call_services.metrics.add_refresher(queue_depth)
    assert call_services.moderation is not None
    batches = BatchService(BatchRepository(database), FileRepository(database), settings.batches.max_lines)
    assistants = AssistantsService(database, registry, retrieval)
    run_tools = ToolServices(retrieval, mcp, images, containers)
    runs = RunService(SegmentDeps(RunRepository(database), assistants, registry, run_tools, file_inputs,
                                  settings.assistants_action_seconds,
                                  ImageFiles(FileRepository(database), BlobStore(settings.resolved_files_dir),
                                             containers.content)),
                      RunSettings(settings.background_lease_seconds, settings.assistants_action_seconds))
    run_runner = _job_runner(
        RunWork(runs, job_scope=lambda record: metering.job(record.owner_id, record.request.get("caller") or {},
                                                            "openai.assistants.runs")),
        queue, concurrency=settings.background_concurrency,
        lease_seconds=settings.background_lease_seconds)
    runs.runner = run_runner
    services = Services(settings=settings, database=database, keys=keys, auth=Authenticator(master_key, directory),
                        models=registry, responses=responses, conversations=conversations,
                        embeddings=embeddings, retrieval=retrieval, file_inputs=file_inputs,
                        deployments=deployments, metering=metering, organization=organization,
                        client_address=ClientAddress(settings.trusted_proxies), call_services=call_services,
                        moderation=call_services.moderation, images=images, batches=batches, containers=containers,
                        audio=AudioRegistry.from_settings(settings),
                        realtime_secrets=ClientSecrets(RealtimeSecretRepository(database),
                                                       settings.realtime.client_secret_seconds, keys,
                                                       ProjectRepository(database)),
                        assistants=assistants, runs=runs)
    background = BackgroundWork(responses, decode_stored_request, job_scope=lambda record: metering.job(
        record.owner_id, record.request.get("caller") or {}, "openai.responses"), call_services=call_services)
    runner = _job_runner(background, queue, concurrency=settings.background_concurrency,
                         lease_seconds=settings.background_lease_seconds)
    responses.runner = runner
    batch_runner = _batch_runner(settings, services, metering, call_services, queue)
    batches.runner = batch_runner
    metering.start()
    retrieval.ingester.start()
    runner.start()
    batch_runner.start()
    run_runner.start()
    deployments.start(settings.routing.refresh_seconds)
    blobs = BlobStore(settings.resolved_files_dir)
    await asyncio.to_thread(blobs.remove_stale_temp)
    # audio and image uploads live for one request; older ones were left by a process that died mid-answer
    for uploads in request_upload_stores(settings.data_dir):
        await asyncio.to_thread(uploads.remove_older_than, 24 * 3600)
    purger = asyncio.create_task(_purge_expired_files(database, blobs, images), name="purge-expired-files")
    return services, Workers(runner, batch_runner, mcp, purger, run_runner, sandboxes=sandboxes, notices=notices)


def pause_jobs(services: Services, workers: Workers) -> None:
    """The process drains: its job runners claim nothing more (queued jobs go to the other
    processes); the jobs running here go on until ``close_services`` hands them back."""
    for runner in (workers.runner, workers.batch_runner, workers.run_runner):
        runner.pause()
    services.retrieval.ingester.pause()
    log.info("draining: this process takes no more queued jobs")


async def close_services(services: Services, workers: Workers) -> None:
    workers.purger.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await workers.purger
    await workers.runner.stop()
    await workers.batch_runner.stop()
    await workers.run_runner.stop()
    await services.runs.aclose()
    await services.realtime_calls.hangup_all()
    await services.retrieval.ingester.stop()
    await services.metering.close()
    await workers.mcp.aclose()
    if workers.notices is not None:
        await workers.notices.aclose()
    if workers.sandboxes is not None:
        await workers.sandboxes.aclose()
    await services.embeddings.aclose()
    await services.moderation.aclose()
    await services.images.aclose()
    await services.audio.aclose()
    await services.deployments.aclose()
    for route in services.models.routes():
        await route.provider.aclose()
    await services.database.aclose()
    if services.call_services.limiter is not None:
        await services.call_services.limiter.aclose()
    if services.call_services.tracing is not None:
        await asyncio.to_thread(services.call_services.tracing.shutdown)
