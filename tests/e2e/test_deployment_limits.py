"""Per-deployment rate limits (``rpm``/``tpm``/``max_concurrency`` on a deployment) held by the
limits store, exactly across two server processes sharing Redis, through the router's gate;
the router's deployments in /metrics."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import VIA_OPENAI
from tests.e2e.ledger import wait_new
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.pg import fresh_postgres_url
from tests.server import MASTER_KEY, LiveServer


def deployed(fake: FakeUpstream) -> list[dict[str, Any]]:
    return [{"name": VIA_OPENAI, "provider": "openai", "api_key": "k", "timeout": 5,
             "deployments": [{"id": "east", "base_url": fake.url + "/v1", "model": "gpt-upstream", "rpm": 5}]}]


async def answer(server: LiveServer, **extra: Any) -> httpx.Response:
    async with openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0) as sdk:
        try:
            raw = await sdk.chat.completions.with_raw_response.create(
                model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}], **extra)
            return raw.http_response
        except openai.APIStatusError as error:
            return error.response


@pytest.mark.postgres
async def test_a_deployment_rpm_holds_across_processes(tmp_path: Path, fake_openai: FakeUpstream) -> None:
    settings = {"redis_url": "redis://127.0.0.1:6379/12",
                "rate_limits": {"redis_prefix": f"test:{secrets.token_hex(6)}:"}, "metrics_auth": "open"}
    async with fresh_postgres_url() as database_url:
        servers = []
        for name in ("one", "two"):
            (tmp_path / name).mkdir()
            servers.append(LiveServer(tmp_path / name, deployed(fake_openai), database_url=database_url, **settings))
        try:
            for server in servers:
                server.start()
            fake_openai.script(*[ow.completion("ok") for _ in range(5)])
            answers = [await answer(servers[i % 2]) for i in range(8)]
            assert [r.status_code for r in answers] == [200] * 5 + [429] * 3
            refused = answers[5]
            assert refused.json()["error"]["code"] == "rate_limit_exceeded"
            assert "rate limit" in refused.json()["error"]["message"]
            assert int(refused.headers["retry-after"]) >= 1
            assert len(fake_openai.received) == 5
            scraped = httpx.get(servers[0].url + "/metrics").text
            samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                       for f in text_string_to_metric_families(scraped) for s in f.samples}
            assert samples[("switchyard_breaker_state", (("deployment", "east"),))] == 0
            assert samples[("switchyard_deployment_attempts_total", (("deployment", "east"),))] == 3
            rejected = samples[("switchyard_rate_limit_rejections_total",
                                (("level", "deployment"), ("reason", "requests")))]
            assert rejected == 1  # of the three refusals, this process made the middle one
        finally:
            for server in servers:
                server.stop()


async def test_a_deployment_tpm_reserves_the_turn_estimate(tmp_path: Path, fake_openai: FakeUpstream) -> None:
    models = deployed(fake_openai)
    models[0]["deployments"][0] |= {"rpm": None, "tpm": 330}
    server = LiveServer(tmp_path, models)
    server.start()
    try:
        fake_openai.script(ow.completion("small"), ow.completion("small again"))
        assert (await answer(server, max_tokens=100)).status_code == 200  # reserves 103 (3 + max_tokens), settles to 18
        assert (await answer(server, max_tokens=300)).status_code == 200  # 18 + 303 fit in 330 (103 + 303 would not)
        refused = await answer(server, max_tokens=300)  # 18 + 18 + 303 do not
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert len(fake_openai.received) == 2
        # the refusal is Switchyard's (the deployment's own limit), not the upstream's: no model request, no cost
        ledger = wait_new(server, None, 3)
        assert [(e["outcome"], e["status"], e["num_model_requests"], e["cost"]["exact"]) for e in ledger] == [
            ("completed", 200, 1, "0"), ("completed", 200, 1, "0"), ("rate_limited", 429, 0, "0")]
        assert ledger[2]["error_code"] == "rate_limit_exceeded"
        assert ledger[2]["request_id"] == refused.headers["x-request-id"]
    finally:
        server.stop()


async def test_a_call_its_budget_refuses_leaves_its_deployment_untouched(tmp_path: Path,
                                                                         fake_openai: FakeUpstream) -> None:
    """With Redis, a one-deployment model's deployment is admitted together with the call (one
    round trip); a call refused after that, by its budget, gives the deployment's request back."""
    models = deployed(fake_openai)
    models[0] |= {"price": {"input_per_mtok": "0", "output_per_mtok": "1000"}}  # 10 output tokens: 0.01 USD
    models[0]["deployments"][0] |= {"rpm": 1}
    server = LiveServer(tmp_path, models, redis_url="redis://127.0.0.1:6379/12",
                        rate_limits={"redis_prefix": f"test:{secrets.token_hex(6)}:",
                                     "default_key_limits": {"requests_per_minute": 100}},
                        metering={"flush_seconds": 0.05, "project_budgets_usd": {"proj_default": "0.055"}})
    server.start()
    try:
        fake_openai.script(ow.completion("ok"))
        too_dear = await answer(server, max_tokens=100)  # reserves 0.1 USD of a 0.055 budget
        assert too_dear.status_code == 429 and too_dear.json()["error"]["code"] == "insufficient_quota"
        served = await answer(server, max_tokens=10)
        assert served.status_code == 200, served.text
        refused = await answer(server, max_tokens=10)  # the deployment's one request a minute is taken
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert len(fake_openai.received) == 1
    finally:
        server.stop()
