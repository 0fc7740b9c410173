"""The peers the gateway benchmark compares Switchyard with, as installed by
bench/install_peers.sh into a cache directory outside the repository: LiteLLM's proxy and
the Portkey gateway. How each is configured, started and called, and what of its gateway
features the configuration turns on (LiteLLM's database, without which it has no virtual
keys, per-key limits or spend logs, is used when install_peers.sh could set up Prisma)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("SWITCHYARD_BENCH_CACHE", Path.home() / ".cache" / "switchyard-bench"))
LITELLM = CACHE / "litellm-venv" / "bin" / "litellm"
PORTKEY_DIR = CACHE / "portkey" / "node_modules" / "@portkey-ai" / "gateway"
LITELLM_DB_STATUS = CACHE / "litellm-db.status"
LITELLM_REDIS = "redis://127.0.0.1:6379/14"  # its own db, so its keys can be counted apart
# Limits set but never reached (the admin API caps a limit at 2**31 - 1)
NEVER_REACHED = {"rpm": 10_000_000, "tpm": 2_000_000_000, "concurrency": 10_000}

LITELLM_ENV = {
    "LITELLM_LOG": "ERROR",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_TELEMETRY": "False",
    "DISABLE_ADMIN_UI": "True",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch from GitHub at start-up
}


@dataclass
class PeerSetup:
    """How to start a peer and call it, and what its configuration turned on."""

    cmd: list[str]
    env: dict[str, str]
    health_path: str
    model: str
    slow_model: str
    headers: list[str] = field(default_factory=list)
    features: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


def installed() -> dict[str, bool]:
    return {"litellm": LITELLM.exists(),
            "portkey": (PORTKEY_DIR / "build" / "start-server.js").exists()}


def litellm_database() -> tuple[str | None, str]:
    """(DATABASE_URL or None, why) from install_peers.sh's probe."""
    try:
        status = LITELLM_DB_STATUS.read_text().strip()
    except OSError:
        return None, "off: bench/install_peers.sh has not probed it"
    if status.startswith("ok "):
        return status[3:], "on"
    return None, f"off ({status})"


def litellm(work: Path, port: int, upstream: int, key: str) -> PeerSetup:
    """LiteLLM with the closest it has to Switchyard's features on: the master key, per-deployment
    rpm/tpm limits counted in Redis (usage-based routing v2, the strategy that enforces them
    across instances), a global concurrency cap, Prometheus metrics, and its database (virtual
    keys, spend logs) when Prisma could be set up."""
    base = f"http://127.0.0.1:{upstream}/v1"
    db_url, db_state = litellm_database()
    lim = NEVER_REACHED

    def model(name: str, upstream_model: str) -> str:
        return (f"  - model_name: {name}\n"
                f"    litellm_params: {{model: openai/{upstream_model}, api_base: '{base}', api_key: x,"
                f" rpm: {lim['rpm']}, tpm: {lim['tpm']}}}\n")

    config = work / "litellm.yaml"
    config.write_text(
        "model_list:\n" + model("bench-model", "upstream") + model("bench-slow", "upstream-slow")
        + "router_settings:\n"
        "  routing_strategy: usage-based-routing-v2\n"
        f"  redis_url: '{LITELLM_REDIS}'\n"
        "litellm_settings:\n"
        "  set_verbose: false\n"
        "  json_logs: false\n"
        "  turn_off_message_logging: true\n"
        "  request_timeout: 600\n"
        "  callbacks: ['prometheus']\n"
        "general_settings:\n"
        f"  master_key: {key}\n"
        f"  global_max_parallel_requests: {lim['concurrency']}\n"
        + ("" if db_url else "  disable_spend_logs: true\n  disable_error_logs: true\n")
    )
    env = dict(LITELLM_ENV)
    if db_url:
        env["DATABASE_URL"] = db_url
    features = {
        "auth": "master key" + (" (virtual keys need the database)" if not db_url else ""),
        "database (virtual keys, per-key limits, spend logs)": db_state,
        "limits": f"per-deployment rpm/tpm (never reached) + global_max_parallel_requests {lim['concurrency']}",
        "limits store": f"Redis {LITELLM_REDIS} (usage-based-routing-v2)",
        "metrics": "prometheus callback",
    }
    return PeerSetup(
        cmd=[str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
             "--num_workers", "1"],
        env=env, health_path="/health/liveliness", model="bench-model", slow_model="bench-slow",
        features=features)


def portkey(port: int, upstream: int) -> PeerSetup:
    """The open-source Portkey gateway under Node, routed to the fake upstream by headers.
    It has no keys, limits, ledger or metrics of its own to turn on (those are in Portkey's
    hosted control plane); headless and NODE_ENV=production leave out its log UI."""
    return PeerSetup(
        cmd=["node", "build/start-server.js", f"--port={port}", "--headless"],
        env={"NODE_ENV": "production"}, health_path="/", model="upstream",
        slow_model="upstream-slow", cwd=PORTKEY_DIR,
        headers=["x-portkey-provider: openai",
                 f"x-portkey-custom-host: http://127.0.0.1:{upstream}/v1"],
        features={"auth": "none (the open-source gateway passes the caller's key upstream)",
                  "limits": "none in the open-source gateway", "ledger": "none",
                  "metrics": "none"})


def floor(port: int, upstream: int, python: Path) -> PeerSetup:
    """``bench/floor_proxy.py``: Switchyard's stack (uvicorn, Starlette, aiohttp) relaying
    bytes and doing nothing else, as the floor under any gateway written on it."""
    bench = Path(__file__).resolve().parent
    return PeerSetup(
        cmd=[str(python), "-m", "uvicorn", "--app-dir", str(bench), "floor_proxy:app", "--port", str(port),
             "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"],
        env={"UPSTREAM": f"http://127.0.0.1:{upstream}"}, health_path="/health", model="upstream",
        slow_model="upstream-slow",
        features={"what": "a byte relay on uvicorn + Starlette + aiohttp: no gateway feature at all"})


NGINX = Path("/usr/sbin/nginx")


def nginx(port: int, upstream: int, work: Path) -> PeerSetup:
    """Debian's nginx as a reverse proxy to the fake upstream (one worker, keep-alive to the
    upstream, no buffering, no log): compiled C doing nothing but relaying, the least any
    proxy in its own process adds on this machine."""
    prefix = work / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path {prefix}/tmp/body;
  proxy_temp_path {prefix}/tmp/proxy;
  fastcgi_temp_path {prefix}/tmp/fastcgi;
  uwsgi_temp_path {prefix}/tmp/uwsgi;
  scgi_temp_path {prefix}/tmp/scgi;
  upstream fake {{ server 127.0.0.1:{upstream}; keepalive 256; keepalive_requests 100000000; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
}}
""")
    return PeerSetup(cmd=[str(NGINX), "-p", str(prefix), "-c", str(conf)], env={}, health_path="/health",
                     model="upstream", slow_model="upstream-slow",
                     features={"what": "nginx relaying bytes: no gateway feature at all, in C"})
