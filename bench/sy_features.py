"""Switchyard in the benchmark with every gateway feature its build has: a stored project key
instead of the master key, rate limits (in-process, or in Redis with ``redis_url``), the usage
ledger and ``/metrics``. Each feature is turned on through the config or the admin API only
where the build being measured has it, and is then checked at run time; whatever is missing
is reported as "off" with the reason, never a crash. Main today has only the master key."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request

from peers import NEVER_REACHED

SY_REDIS = "redis://127.0.0.1:6379/15"
SECRET = re.compile(r"sk-[A-Za-z0-9_\-]{16,}")

# What the build's Settings declare: {class: {field: annotation}}; read from the code itself.
_INTROSPECT = """
import json
from pydantic import BaseModel
from switchyard import config as c
out = {}
for name in ("Settings", "ModelConfig", "DeploymentConfig"):
    cls = getattr(c, name, None)
    if cls is None:
        continue
    fields = {}
    for f, info in cls.model_fields.items():
        ann = info.annotation
        sub = [s for s in ann.model_fields] if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        fields[f] = {"type": repr(ann), "sub": sub}
    out[name] = fields
print(json.dumps(out))
"""


def build_fields(python: str, env: dict[str, str]) -> dict:
    done = subprocess.run([python, "-c", _INTROSPECT], capture_output=True, text=True, env=env,
                          timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"cannot read Switchyard's settings: {done.stderr[-500:]}")
    return json.loads(done.stdout)


def _switch_on(fields: dict, name: str) -> object | None:
    """The value that turns a feature setting on, by its declared type; None if unknown."""
    spec = fields.get(name)
    if spec is None:
        return None
    if spec["sub"] is not None:
        return {"enabled": True} if "enabled" in spec["sub"] else {}
    return True if "bool" in spec["type"] else None


def config(upstream: int, fields: dict, redis: bool,
           redis_url: str | None = None) -> tuple[dict, dict[str, str]]:
    """The YAML config (as a dict) and what it turned on, feature by feature."""
    settings = fields.get("Settings", {})
    model_fields = fields.get("ModelConfig", {})
    deploy_fields = fields.get("DeploymentConfig", {})
    base = f"http://127.0.0.1:{upstream}/v1"
    notes: dict[str, str] = {}
    per_deployment = "deployments" in model_fields and {"rpm", "tpm"} <= set(deploy_fields)

    def model(name: str, upstream_model: str) -> dict:
        if per_deployment:
            deployment = {"base_url": base, "api_key": "x", "model": upstream_model,
                          "rpm": NEVER_REACHED["rpm"], "tpm": NEVER_REACHED["tpm"]}
            return {"name": name, "provider": "openai", "deployments": [deployment]}
        return {"name": name, "provider": "openai", "base_url": base, "api_key": "x",
                "model": upstream_model}

    cfg: dict = {"models": [model("bench-model", "upstream"), model("bench-slow", "upstream-slow")],
                 "log_level": "warning"}
    notes["limits (deployment rpm/tpm in config)"] = (
        "on (never reached)" if per_deployment else "off: no per-deployment rpm/tpm setting in this build")
    if redis:
        if "redis_url" in settings:
            cfg["redis_url"] = redis_url or SY_REDIS
            notes["limits store"] = f"Redis {cfg['redis_url']} (redis_url)"
        else:
            notes["limits store"] = "off: no redis_url setting in this build"
    else:
        notes["limits store"] = "in-process"
    for feature, candidates in (("metrics", ("metrics", "prometheus")),
                                ("ledger", ("ledger", "usage_ledger", "metering"))):
        for name in candidates:
            value = _switch_on(settings, name)
            if value is not None:
                cfg[name] = value
                notes[f"{feature} (config)"] = f"{name}: {json.dumps(value)}"
                break
        else:
            notes[f"{feature} (config)"] = "no setting (on by default if the build has it)"
    return cfg, notes


# -- the admin API -------------------------------------------------------------------------


def _call(method: str, url: str, key: str, body: dict | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"authorization": f"Bearer {key}",
                                          "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read().decode(errors="replace"), exc.code
    except OSError as exc:
        return 0, repr(exc)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def _why(answer: dict | str) -> str:
    """The error message of an answer, short."""
    if isinstance(answer, dict):
        error = answer.get("error")
        return str(error.get("message") if isinstance(error, dict) else error or "")[:120]
    return str(answer)[:120]


def _secret(obj: object) -> str | None:
    """The first ``sk-…`` string anywhere in an answer (``value``, ``key``, ``api_key.value``)."""
    found = SECRET.search(json.dumps(obj) if not isinstance(obj, str) else obj)
    return found.group(0) if found else None


def provision(base: str, master: str, cli: list[str], cli_env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A project with a stored key, limits set where the admin API takes them. Returns the key
    to call with (the master key when the build cannot store one) and what happened."""
    notes: dict[str, str] = {}
    org = f"{base}/v1/organization"
    # OpenAI's rate-limit field names; on projects and keys a Switchyard extension
    limits = {"max_requests_per_1_minute": NEVER_REACHED["rpm"],
              "max_tokens_per_1_minute": NEVER_REACHED["tpm"],
              "max_concurrent_requests": NEVER_REACHED["concurrency"]}
    status, project = _call("POST", f"{org}/projects", master, {"name": "bench", **limits})
    notes["project limits"] = "on (never reached)"
    if status not in (200, 201):
        notes["project limits"] = f"off: project with limits refused ({status}: {_why(project)})"
        status, project = _call("POST", f"{org}/projects", master, {"name": "bench"})
    if status not in (200, 201) or not isinstance(project, dict) or "id" not in project:
        notes.pop("project limits")
        notes["stored key"] = f"off: POST /v1/organization/projects answered {status} (no admin API)"
        return master, notes
    pid = project["id"]
    key = None
    attempts = [(f"{org}/projects/{pid}/api_keys", {"name": "bench", **limits},
                 "api_keys, with per-key limits"),
                (f"{org}/projects/{pid}/api_keys", {"name": "bench"}, "api_keys"),
                (f"{org}/projects/{pid}/service_accounts", {"name": "bench"}, "service_accounts")]
    refused = []
    for url, body, how in attempts:
        status, answer = _call("POST", url, master, body)
        key = _secret(answer) if status in (200, 201) else None
        if key:
            notes["stored key"] = f"on (created via {how})"
            break
        refused.append(f"{how}: {status} {_why(answer)}")
    if refused:
        notes["key creation refused"] = "; ".join(refused)[:400]
    if key is None:
        try:
            done = subprocess.run([*cli, "keys", "create", "--project", pid], capture_output=True,
                                  text=True, timeout=60, env=cli_env)
            key = _secret(done.stdout) if done.returncode == 0 else None
            cli_said = done.stderr[-200:]
        except (OSError, subprocess.TimeoutExpired) as exc:
            cli_said = repr(exc)
        notes["stored key"] = ("on (created via the CLI)" if key else
                               f"off: no way to create a project key (CLI: {cli_said!r})")
    listed, listing = _call("GET", f"{org}/projects/{pid}/rate_limits", master)
    rows = listing.get("data", []) if isinstance(listing, dict) else []
    updated, last = 0, ""
    for row in rows:
        status, answer = _call("POST", f"{org}/projects/{pid}/rate_limits/{row.get('id')}", master,
                               {"max_requests_per_1_minute": NEVER_REACHED["rpm"],
                                "max_tokens_per_1_minute": NEVER_REACHED["tpm"]})
        updated += status in (200, 201)
        last = f"{status} {_why(answer)}"
    notes["per-model rate limits (admin API)"] = (
        f"set on {updated} of {len(rows)} model(s)" if updated else
        f"off: GET …/rate_limits answered {listed}" + (f", update answered {last}" if last else ""))
    if key is None:
        return master, notes
    status, _ = _call("GET", f"{base}/v1/models", key)
    if status != 200:
        notes["stored key"] = f"off: the created key was refused ({status}); master key used"
        return master, notes
    return key, notes


# -- run-time checks -----------------------------------------------------------------------


def check_headers(base: str, key: str, model: str) -> dict[str, str]:
    """One request: do answers carry the rate-limit headers (limits are on)?"""
    req = urllib.request.Request(
        f"{base}/v1/chat/completions", method="POST",
        data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            headers = {k.lower(): v for k, v in r.headers.items()}
    except OSError as exc:
        return {"limits (headers on answers)": f"unknown: {exc!r}"}
    limit = sorted(h for h in headers if h.startswith("x-ratelimit-"))
    return {"limits (headers on answers)": f"on: {', '.join(limit)}" if limit else
            "off: no x-ratelimit-* headers on answers",
            "request id": "on" if "x-request-id" in headers else "off: no x-request-id"}


def check_metrics(base: str, master: str) -> str:
    status, body = _call("GET", f"{base}/metrics", master)
    if status == 200 and isinstance(body, str) and "# TYPE" in body:
        names = {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE")}
        return f"on ({len(names)} metric families)"
    return f"off: GET /metrics answered {status}"


def redis_keys(url: str) -> int | None:
    db = url.rsplit("/", 1)[1]
    try:
        done = subprocess.run(["redis-cli", "-n", db, "dbsize"], capture_output=True, text=True,
                              timeout=10)
        return int(done.stdout.strip())
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def check_ledger(base: str, master: str, since: float, served: int) -> str:
    """Records the ledger holds for the run, against the requests sent to this target."""
    status, body = _call("GET", f"{base}/v1/organization/usage/completions?start_time={int(since)}"
                                f"&bucket_width=1d&limit=31", master)
    if status != 200 or not isinstance(body, dict):
        return f"off: GET /v1/organization/usage/completions answered {status}"
    count = 0
    for bucket in body.get("data", []):
        for result in bucket.get("results", []):
            count += int(result.get("num_model_requests", 0) or 0)
    return (f"on ({count:,} requests recorded; {served:,} sent: measured, warm-up, soak, held "
            "streams and the one check request)")


def wait_settled(seconds: float = 3.0) -> None:
    """Lets a batched ledger writer flush before it is read."""
    time.sleep(seconds)
