"""Configuration: a YAML file plus environment variables; defaults serve the
embedded model from a SQLite store under the data directory."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from switchyard.model_list import ModelListError, expand_model_list

ProviderKind = Literal["openai", "openai-responses", "anthropic", "local", "gemini", "stability"]
# provider kinds that serve one task only (docs/images.md): Google's and Stability AI's image APIs
SINGLE_TASK_PROVIDERS: dict[str, str] = {"gemini": "image", "stability": "image"}
Task = Literal["chat", "embedding", "rerank", "moderation", "image", "transcription", "speech", "realtime"]

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-0.5b-instruct"
DEFAULT_LOCAL_EMBEDDING = "all-minilm-l6-v2"
DEFAULT_LOCAL_MODERATION = "profanity-check"
# the names clients send by default (the SDKs' and the spec's), answered by the embedded classifier
MODERATION_ALIASES = ["omni-moderation-*", "text-moderation-*"]
DEFAULT_LOCAL_TRANSCRIPTION = "whisper-base"
DEFAULT_LOCAL_SPEECH = "hibari-tts"


class Price(BaseModel):
    """What a model's calls cost, in US dollars: per million tokens, for audio models per
    minute of audio heard (transcription, translation), per million characters spoken and per
    minute of speech made (text to speech), and for image models per image made. Cached and
    cache-write input default to the input price; reasoning tokens are output tokens."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: Decimal = Field(default=Decimal(0), ge=0)
    cached_input_per_mtok: Decimal | None = Field(default=None, ge=0)
    cache_write_per_mtok: Decimal | None = Field(default=None, ge=0)
    output_per_mtok: Decimal = Field(default=Decimal(0), ge=0)
    input_per_minute: Decimal = Field(default=Decimal(0), ge=0)  # audio transcribed or translated
    input_per_mchar: Decimal = Field(default=Decimal(0), ge=0)  # text spoken (tts-1: per 1M characters)
    output_per_minute: Decimal = Field(default=Decimal(0), ge=0)  # speech made
    output_per_image: Decimal = Field(default=Decimal(0), ge=0)  # images made (Imagen, Stability)

    @property
    def free(self) -> bool:
        return not (self.input_per_mtok or self.cached_input_per_mtok or self.cache_write_per_mtok
                    or self.output_per_mtok or self.input_per_minute or self.input_per_mchar
                    or self.output_per_minute or self.output_per_image)


class MeteringConfig(BaseModel):
    """The usage ledger and budgets (docs/usage-and-budgets.md)."""

    model_config = ConfigDict(extra="forbid")

    flush_seconds: float = Field(default=0.25, gt=0)  # ledger rows are written in batches this often
    batch_size: int = Field(default=500, ge=1)  # ... or as soon as this many are waiting
    reserve_output_tokens: int = Field(default=4096, ge=1)  # worst case when a request sets no max
    prompt_estimate_margin: Decimal = Field(default=Decimal("1.2"), ge=1)  # on the local prompt count
    # A reservation held this long belongs to a call whose process died: it is spent as reserved.
    reservation_ttl_seconds: float = Field(default=3600.0, gt=0)
    # Fallback budgets (USD) by project id and key id, for budgets not stored with the key.
    project_budgets_usd: dict[str, Decimal] = Field(default_factory=dict)
    key_budgets_usd: dict[str, Decimal] = Field(default_factory=dict)
    # Where reservations are kept: auto = redis with redis_url, else database on PostgreSQL,
    # else memory (docs/usage-and-budgets.md, "Where reservations are kept").
    budget_store: Literal["auto", "memory", "redis", "database"] = "auto"
    redis_prefix: str = "switchyard:budget:"
class DeploymentConfig(BaseModel):
    """One upstream serving a public model name. Unset fields take the model's value."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None  # default: "<model name>:<position>"
    provider: ProviderKind | None = None
    model: str | None = None  # the upstream's own name
    base_url: str | None = None
    api_key: str | None = None
    headers: dict[str, str] | None = None
    timeout: float | None = Field(default=None, gt=0)
    connect_timeout: float | None = Field(default=None, gt=0)
    weight: float = Field(default=1.0, gt=0)  # share of traffic among deployments of the same priority
    priority: int = 0  # lower goes first (LiteLLM's ``order``)
    max_concurrency: int | None = Field(default=None, ge=1)  # requests in flight, per process
    rpm: int | None = Field(default=None, ge=1)  # enforced by the deployment gate (rate limits)
    tpm: int | None = Field(default=None, ge=1)
    # the routing's breaker settings for this deployment alone (unset: the routing's)
    breaker_failures: int | None = Field(default=None, ge=0)
    breaker_cooldown: float | None = Field(default=None, gt=0)
    breaker_error_rate: float | None = Field(default=None, gt=0, le=1)
    breaker_window: float | None = Field(default=None, gt=0)
    breaker_min_calls: int | None = Field(default=None, ge=1)


class RoutingConfig(BaseModel):
    """Failover and circuit breaking, for every model (``docs/routing.md``)."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=3, ge=1)  # deployments tried per request, fallbacks included
    backoff_initial: float = Field(default=0.05, ge=0)  # seconds before the 2nd attempt; doubles after
    backoff_max: float = Field(default=2.0, ge=0)
    retry_after_max: float = Field(default=60.0, ge=0)  # longest an upstream's Retry-After keeps it out
    breaker_failures: int = Field(default=5, ge=0)  # consecutive failures that open the breaker; 0: never
    breaker_cooldown: float = Field(default=30.0, gt=0)  # seconds open before a half-open probe
    breaker_error_rate: float | None = Field(default=None, gt=0, le=1)  # failed share of calls that opens it
    breaker_window: float = Field(default=60.0, gt=0)  # seconds of calls the error rate is taken over
    breaker_min_calls: int = Field(default=20, ge=1)  # calls in the window before the rate counts
    fallback_depth: int = Field(default=3, ge=0)  # levels of fallbacks followed (1: the model's own only)
    refresh_seconds: float = Field(default=5.0, gt=0)  # how often deployments stored via the API are re-read
    seed: int | None = None  # weighted choice made repeatable (tests)


class ModelConfig(BaseModel):
    """One public model name, served by one backend or by several ``deployments``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    provider: ProviderKind
    task: Task = "chat"
    model: str | None = None  # the upstream's own name; defaults to ``name``
    base_url: str | None = None
    api_key: str | None = None
    aliases: list[str] = Field(default_factory=list)
    # local provider
    path: str | None = None  # any GGUF file; unset means the packaged default
    context_length: int = 8192
    context_window: int | None = None  # upstream models: tokens the model accepts (for truncation)
    threads: int | None = None  # generation threads; unset: every CPU the process may use
    threads_batch: int | None = None  # prompt-evaluation threads; unset: as ``threads``
    slots: int = Field(4, ge=1, le=64)  # sequences decoded together; each keeps its prompt prefix cached
    max_queue: int = Field(16, ge=0)  # requests waiting for a slot before new ones get 503 + Retry-After
    flash_attn: bool = False
    audio_window_seconds: float = Field(300.0, ge=1.0)  # transcription: longest piece of audio decoded at once
    # upstream providers
    timeout: float = 600.0
    connect_timeout: float = 10.0
    headers: dict[str, str] = Field(default_factory=dict)
    json_schema: bool | None = None  # upstream enforces structured outputs itself
    structured_retries: int = 2
    drop_params: bool = False  # drop (and log) parameters the backend cannot honour instead of a 400
    owned_by: str | None = None
    price: Price = Field(default_factory=Price)  # free unless set
    threshold: float | None = Field(default=None, ge=0, le=1)  # moderation: the score that flags a category
    policy_model: str | None = None  # moderation: a chat model that classifies instead (docs/moderation.md)
    deployments: list[DeploymentConfig] = Field(default_factory=list)  # empty: the model is its one deployment
    fallbacks: list[str] = Field(default_factory=list)  # other models tried when every deployment failed
    # batch lines on this model in flight at once, per process; default: batches.concurrency_per_model
    # (for the embedded chat model, half its slots, so interactive requests always find one free)
    batch_concurrency: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _provider_from_deployments(cls, data: Any) -> Any:
        if isinstance(data, dict) and "provider" not in data and data.get("deployments"):
            first = data["deployments"][0]
            if isinstance(first, dict) and first.get("provider"):
                return {**data, "provider": first["provider"]}
        return data

    @model_validator(mode="after")
    def _provider_serves_task(self) -> ModelConfig:
        only = SINGLE_TASK_PROVIDERS.get(self.provider)
        if only is not None and self.task != only:
            raise ValueError(f"model '{self.name}': provider '{self.provider}' serves task '{only}' only, "
                             f"not '{self.task}'")
        return self

    @property
    def upstream_model(self) -> str:
        return self.model or self.name

    @property
    def window(self) -> int | None:
        """The context window, where known: the local model's, or the configured one."""
        return self.context_length if self.provider == "local" else self.context_window


class LimitsConfig(BaseModel):
    """Rate limits at one level; unset is unlimited."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int | None = Field(default=None, ge=0)
    tokens_per_minute: int | None = Field(default=None, ge=0)
    max_concurrent_requests: int | None = Field(default=None, ge=0)


class RateLimitsConfig(BaseModel):
    """Defaults for keys and projects that set no limit of their own, and how limits are kept."""

    model_config = ConfigDict(extra="forbid")

    default_key_limits: LimitsConfig = Field(default_factory=LimitsConfig)
    default_project_limits: LimitsConfig = Field(default_factory=LimitsConfig)
    lease_seconds: float = Field(default=60.0, ge=3.0)  # a concurrency slot of a dead process frees after this
    redis_prefix: str = "switchyard:rl:"


class BatchesConfig(BaseModel):
    """How batches (``/v1/batches``, ``/v1/messages/batches``) run: a few lines at a time, so
    interactive traffic on the same upstream always has room (docs/batches.md)."""

    model_config = ConfigDict(extra="forbid")

    concurrency_per_batch: int = Field(default=4, ge=1)  # lines of one batch in flight, per process
    concurrency_per_model: int = Field(default=8, ge=1)  # lines of all batches on one model, per process
    running_batches: int = Field(default=4, ge=1)  # batches one process works on at once
    lease_seconds: float = Field(default=30.0, ge=1.0)  # a dead process's batch is resumed after this
    progress_log_every: int = Field(default=100, ge=1)  # a log line per this many finished lines
    max_lines: int = Field(default=50_000, ge=1)  # requests in one batch (OpenAI's limit)
    max_attempts: int = Field(default=5, ge=1)  # a batch stopped this often (crash, unexpected error) is given up
    retries: int = Field(default=2, ge=0)  # a line that failed in passing (429, 5xx, timeout) is tried again
    retry_backoff: float = Field(default=1.0, ge=0)  # seconds before the first retry, doubling, with jitter
    retry_wait_max: float = Field(default=30.0, ge=0)  # longest wait before a retry, a Retry-After's too


class SandboxConfig(BaseModel):
    """The code interpreter's sandboxes (docs/sandbox.md). Off, or without bubblewrap on the
    host, the ``code_interpreter`` tool and ``/v1/containers`` answer that no sandbox runs here."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    warm: int = Field(default=1, ge=0)  # sandboxes started ahead of need
    max_sessions: int = Field(default=16, ge=1)  # live sessions (containers, threads) at once, per process
    idle_seconds: float = Field(default=20 * 60.0, gt=0)  # a session unused this long ends (OpenAI: 20 minutes)
    cpu_seconds: int = Field(default=30, ge=1)  # per kernel, over its calls until a limit resets it
    wall_seconds: float = Field(default=60.0, gt=0)  # one call
    memory_mb: int = Field(default=1024, ge=128)  # address space of the kernel
    processes: int = Field(default=64, ge=4)
    file_mb: int = Field(default=64, ge=1)  # one file written inside
    disk_mb: int = Field(default=512, ge=1)  # /mnt/data, in memory
    output_kb: int = Field(default=64, ge=1)  # stdout and stderr kept from one call, each
    user: int | None = None  # host uid sandboxes run as when the server runs as root (default: nobody)


class RealtimeConfig(BaseModel):
    """The Realtime API's speech models (docs/realtime.md): names of ``task: transcription``
    and ``task: speech`` models (or their aliases)."""

    model_config = ConfigDict(extra="forbid")

    transcription_model: str = "whisper-1"  # the user's speech to the model's input (a session may name another)
    speech_model: str = "tts-1"  # speaks the model's answers in audio sessions
    client_secret_seconds: int = Field(default=600, ge=10, le=7200)  # default life of an ephemeral key
    transcribe_at_pauses: bool = True  # start transcribing a turn at its first 200 ms pause (docs/realtime.md)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    data_dir: Path = Path("./data")
    database_url: str | None = None  # default: SQLite under data_dir
    # Uploaded files' bytes (Files, Uploads, batch output, image links); every process
    # serving one database must see the same directory. Default: <data_dir>/files.
    files_dir: Path | None = None
    master_key: str | None = None
    secret_key: str | None = None  # seals stored secrets; default: a random one kept in data_dir
    max_body_bytes: int = 32 * 1024 * 1024
    max_upload_bytes: int = 512 * 1024 * 1024
    max_upload_total_bytes: int = 8 * 1024**3
    max_audio_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1)  # OpenAI's limit for audio files
    max_image_upload_bytes: int = Field(default=50 * 1024**2, ge=1)  # each image or mask sent to the Images API
    image_url_ttl_seconds: int = Field(default=3600, ge=60)  # how long an Images API ``url`` works
    public_url: str | None = None  # this server's address as clients reach it (image links); default: the request's
    stream_keepalive_seconds: float = 15.0
    # On SIGTERM: /ready answers 503, new connections are refused, and requests and streams
    # in flight get this long to finish; streams still open then end with their error event.
    drain_seconds: float = Field(default=30.0, ge=0)
    background_lease_seconds: float = 15.0
    # What runs durable jobs (batches): auto = the PgQueuer queue on PostgreSQL and the lease
    # runner on SQLite; lease = the lease runner everywhere (docs/scale-out.md)
    job_queue: Literal["auto", "lease"] = "auto"
    background_concurrency: int = 16
    # how long an Assistants run waits for tool outputs (requires_action) before it expires
    assistants_action_seconds: int = Field(default=600, ge=1)
    response_event_buffer: int = 10000
    # A reader following a background stream looks at the store this often without a wake-up
    # (default 0.5 s alone, 5 s on PostgreSQL, where LISTEN/NOTIFY wakes readers in every process)
    follow_poll_seconds: float | None = Field(default=None, gt=0)
    vector_store_embedding_model: str | None = None  # default: the first model with task embedding
    # Without pgvector, vector stores with at least this many chunks are searched through an
    # HNSW graph (kept under data_dir/vector_index); smaller ones are scored exactly.
    vector_index_min_chunks: int = Field(default=10_000, ge=0)
    # a file being indexed by a process that died is taken up by another after this
    ingest_lease_seconds: float = Field(default=30.0, ge=1.0)
    # Hosts, addresses and networks that client-supplied URLs (remote MCP servers) may reach
    # although they are loopback, private, link-local or metadata addresses.
    egress_allowlist: list[str] = Field(default_factory=list)
    # Proxies (addresses or CIDRs) whose X-Forwarded-For is believed when checking a key's IP allowlist.
    trusted_proxies: list[str] = Field(default_factory=list)
    auth_cache_seconds: float = Field(default=2.0, ge=0)  # how stale another process's key change may be
    max_mcp_servers_per_request: int = Field(default=8, ge=1)
    max_tools_per_request: int = Field(default=512, ge=1)  # Responses and Messages; Chat keeps OpenAI's 128
    models: list[ModelConfig] = Field(default_factory=list)
    redis_url: str | None = None  # set: rate limits are shared by every process using this Redis
    rate_limits: RateLimitsConfig = Field(default_factory=RateLimitsConfig)
    log_format: Literal["json", "text"] = "text"
    otlp_endpoint: str | None = None  # OTLP/HTTP collector, e.g. http://127.0.0.1:4318; unset: no spans
    metrics_auth: Literal["admin", "loopback", "open"] = "admin"  # who may read /metrics
    metering: MeteringConfig = Field(default_factory=MeteringConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    batches: BatchesConfig = Field(default_factory=BatchesConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    realtime: RealtimeConfig = Field(default_factory=RealtimeConfig)
    console: bool = True  # the admin web console at /console
    console_session_hours: float = Field(default=12.0, gt=0)  # how long a console sign-in lasts

    @model_validator(mode="after")
    def _deployment_ids_are_unique(self) -> Settings:
        seen: set[str] = set()
        for model in self.models:
            ids = [d.id or f"{model.name}:{i}" for i, d in enumerate(model.deployments)] or [model.name]
            for ident in ids:
                if ident in seen:
                    raise ValueError(f"deployment id '{ident}' is used twice (model '{model.name}')")
                seen.add(ident)
        return self

    @model_validator(mode="after")
    def _redis_budgets_need_redis(self) -> Settings:
        if self.metering.budget_store == "redis" and not self.redis_url:
            raise ValueError("metering.budget_store 'redis' needs redis_url")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'switchyard.db').resolve()}"

    @property
    def resolved_files_dir(self) -> Path:
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    def with_default_models(self) -> Settings:
        if self.models:
            return self
        # Zero-config serving is for running any client offline, coding agents included:
        # what the embedded model cannot honour (effort, hosted tools) is dropped and logged.
        local = ModelConfig(name=DEFAULT_LOCAL_MODEL, provider="local", drop_params=True)
        embedding = ModelConfig(name=DEFAULT_LOCAL_EMBEDDING, provider="local", task="embedding")
        moderation = ModelConfig(name=DEFAULT_LOCAL_MODERATION, provider="local", task="moderation",
                                 aliases=list(MODERATION_ALIASES))
        # OpenAI's audio model names reach the embedded ones, so clients written for OpenAI work offline.
        transcription = ModelConfig(name=DEFAULT_LOCAL_TRANSCRIPTION, provider="local", task="transcription",
                                    aliases=["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe*"])
        speech = ModelConfig(name=DEFAULT_LOCAL_SPEECH, provider="local", task="speech",
                             aliases=["tts-1", "tts-1-hd", "gpt-4o-mini-tts*"])
        return self.model_copy(update={"models": [local, embedding, moderation, transcription, speech]})

    @property
    def embedding_model(self) -> str | None:
        """The model vector stores embed with."""
        if self.vector_store_embedding_model:
            return self.vector_store_embedding_model
        return next((m.name for m in self.models if m.task == "embedding"), None)


class ConfigError(Exception):
    pass


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read the YAML file (``path`` or ``SWITCHYARD_CONFIG``), then the environment,
    then ``overrides`` (command-line flags), later winning."""
    raw: dict[str, Any] = {}
    config_path = path or os.environ.get("SWITCHYARD_CONFIG")
    if config_path:
        try:
            raw = yaml.safe_load(Path(config_path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config {config_path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"config {config_path} must be a mapping")
    env = {
        "data_dir": os.environ.get("SWITCHYARD_DATA_DIR"),
        "master_key": os.environ.get("SWITCHYARD_MASTER_KEY"),
        "secret_key": os.environ.get("SWITCHYARD_SECRET_KEY"),
        "database_url": os.environ.get("SWITCHYARD_DATABASE_URL"),
        "files_dir": os.environ.get("SWITCHYARD_FILES_DIR"),
        "redis_url": os.environ.get("SWITCHYARD_REDIS_URL"),
        "otlp_endpoint": os.environ.get("SWITCHYARD_OTLP_ENDPOINT"),
    }
    raw.update({k: v for k, v in env.items() if v})
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        raw = expand_model_list(raw, os.environ)
    except ModelListError as exc:
        raise ConfigError(f"invalid config: {exc}") from exc
    try:
        return Settings.model_validate(raw).with_default_models()
    except ValidationError as exc:
        raise ConfigError(f"invalid config: {exc}") from exc
