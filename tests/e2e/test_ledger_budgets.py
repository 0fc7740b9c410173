"""Budgets on a live server: concurrent requests never spend past the budget (each reserves
its worst case first), the refused ones get 429 ``insufficient_quota`` in their surface's
own shape, and a clean shutdown writes every ledger entry still waiting."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import anthropic
import httpx
import openai
import pytest

from switchyard.store import ApiKeyRepository, Database
from switchyard.store.budgets import BudgetRepository
from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, upstream_models
from tests.e2e.ledger import ADMIN, entries, wait_new
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.pg import fresh_postgres_url
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import new_key, new_project

# 1000 USD per million output tokens: 10 tokens cost 0.01 USD. Input is free, so a request
# with max_tokens 10 reserves exactly 0.01 and, answered with 10 tokens, spends exactly that.
PRICE = {"input_per_mtok": "0", "output_per_mtok": "1000"}
BUDGET = "0.055"  # five such requests fit, the sixth does not
REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
         fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    models = [{**m, "price": PRICE} for m in upstream_models(fake_openai, fake_anthropic)]
    server = LiveServer(tmp_path_factory.mktemp("budgets"), models,
                        metering={"flush_seconds": 0.05, "project_budgets_usd": {"proj_default": BUDGET}})
    server.start(wait_ready=True, timeout=60)
    yield server
    server.stop()


def _ask(live: LiveServer) -> str:
    client = openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=30)
    try:
        client.chat.completions.create(model=VIA_OPENAI, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    except openai.RateLimitError as error:
        body = error.response.json()["error"]
        assert (body["type"], body["code"]) == ("insufficient_quota", "insufficient_quota")
        return "refused"
    return "served"


def test_concurrent_requests_never_overspend_the_budget(live, fake_openai, fake_anthropic) -> None:
    # Each answer takes a while, so that the twenty requests overlap.
    fake_openai.script(*[ow.completion("ok", use=ow.usage(prompt=3, completion=10)) for _ in range(20)])
    for script in fake_openai.scripts:
        script.delay = 0.3
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda _: _ask(live), range(20)))
    assert outcomes.count("served") == 5 and outcomes.count("refused") == 15
    assert len(fake_openai.received) == 5  # the refused ones never reached the upstream

    spend = httpx.get(live.url + "/v1/organization/spend", params={"project_id": "proj_default"},
                      headers=ADMIN).json()
    assert spend["spent"]["exact"] == "0.05" and spend["reserved"]["exact"] == "0"

    ledger = wait_new(live, None, 20)
    assert sorted(e["outcome"] for e in ledger) == ["completed"] * 5 + ["insufficient_quota"] * 15
    refused = [e for e in ledger if e["outcome"] == "insufficient_quota"]
    assert {(e["status"], e["error_code"], e["cost"]["exact"], e["num_model_requests"]) for e in refused} == {
        (429, "insufficient_quota", "0", 0)}
    assert sum(float(e["cost"]["exact"]) for e in ledger) == pytest.approx(0.05)

    # The Anthropic surface refuses in its own shape.
    claude = anthropic.Anthropic(base_url=live.url, api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as raised:
        claude.messages.create(model=VIA_ANTHROPIC, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    body = raised.value.response.json()
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    assert "quota" in body["error"]["message"]
    assert fake_anthropic.received == []

    # So does the Responses API, before the response starts.
    client = openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(openai.RateLimitError) as refused:
        client.responses.create(model=VIA_OPENAI, input="hi", max_output_tokens=16)
    assert refused.value.code == "insufficient_quota"
    assert len(fake_openai.received) == 5


@pytest.mark.parametrize("store", ["redis", "database"])
async def test_a_key_budget_holds_across_two_processes_on_postgresql(tmp_path, fake_openai, fake_anthropic,
                                                                     store) -> None:
    """Two servers share one PostgreSQL database (and, for reservations in Redis, one Redis);
    twenty requests with one stored key, spread over both, spend exactly the five the key's
    budget allows."""
    async with fresh_postgres_url() as url:
        db = Database(url)
        await db.start()
        try:
            record, secret = await ApiKeyRepository(db).create("proj_shared", "budgeted")
        finally:
            await db.aclose()
        models = [{**m, "price": PRICE} for m in upstream_models(fake_openai, fake_anthropic)]
        metering = {"flush_seconds": 0.05, "key_budgets_usd": {record.id: BUDGET},
                    "project_budgets_usd": {"proj_shared": "1"}, "budget_store": store,
                    "redis_prefix": f"test:budget:{secrets.token_hex(6)}:"}
        shared = {"redis_url": REDIS_URL} if store == "redis" else {}
        for name in "ab":
            (tmp_path / name).mkdir()
        servers = [LiveServer(tmp_path / name, models, database_url=url, metering=metering, **shared)
                   for name in "ab"]
        for server in servers:
            server.start(wait_ready=True, timeout=60)
        try:
            fake_openai.script(*[ow.completion("ok", use=ow.usage(prompt=3, completion=10)) for _ in range(20)])
            for script in fake_openai.scripts:
                script.delay = 0.3

            def ask(n: int) -> str:
                client = openai.OpenAI(base_url=servers[n % 2].url + "/v1", api_key=secret, max_retries=0, timeout=30)
                try:
                    client.chat.completions.create(model=VIA_OPENAI, max_tokens=10,
                                                   messages=[{"role": "user", "content": "hi"}])
                except openai.RateLimitError as error:
                    assert error.code == "insufficient_quota"
                    return "refused"
                return "served"

            with ThreadPoolExecutor(20) as pool:
                outcomes = list(pool.map(ask, range(20)))
            assert outcomes.count("served") == 5 and len(fake_openai.received) == 5
            for holder in ({"api_key_id": record.id}, {"project_id": "proj_shared"}):
                spend = httpx.get(servers[1].url + "/v1/organization/spend", params=holder, headers=ADMIN).json()
                assert spend["spent"]["exact"] == "0.05" and spend["reserved"]["exact"] == "0", spend
            ledger = wait_new(servers[0], None, 20)
            assert {(e["project_id"], e["api_key_id"]) for e in ledger} == {("proj_shared", record.id)}
            assert sorted(e["outcome"] for e in ledger) == ["completed"] * 5 + ["insufficient_quota"] * 15
        finally:
            for server in servers:
                server.stop()
        db = Database(url)
        await db.start()
        try:  # the spend is in the database too (written in the background from Redis)
            assert await BudgetRepository(db).durable_spend(f"key:{record.id}") == 50_000_000
        finally:
            await db.aclose()


def test_spend_held_in_memory_survives_a_clean_restart(tmp_path, fake_openai, fake_anthropic) -> None:
    """On SQLite, reservations live in the server's memory; the spend is written with the
    ledger's batches (here: only at shutdown) and the next start counts it."""
    models = [{**m, "price": PRICE} for m in upstream_models(fake_openai, fake_anthropic)]
    metering = {"flush_seconds": 3600, "project_budgets_usd": {"proj_default": BUDGET}}
    server = LiveServer(tmp_path, models, metering=metering)
    server.start(wait_ready=True, timeout=60)
    try:
        fake_openai.script(*[ow.completion("ok", use=ow.usage(prompt=3, completion=10)) for _ in range(3)])
        assert [_ask(server) for _ in range(3)] == ["served"] * 3
    finally:
        server.stop()
    with sqlite3.connect(server.workdir / "data" / "switchyard.db") as db:
        assert db.execute("SELECT spent_nanousd FROM budget_spend WHERE id = 'project:proj_default'"
                          ).fetchall() == [(30_000_000,)]

    server.start(wait_ready=True, timeout=60)
    try:
        spend = httpx.get(server.url + "/v1/organization/spend", params={"project_id": "proj_default"},
                          headers=ADMIN).json()
        assert spend["spent"]["exact"] == "0.03" and spend["reserved"]["exact"] == "0"
        fake_openai.script(*[ow.completion("ok", use=ow.usage(prompt=3, completion=10)) for _ in range(3)])
        assert [_ask(server) for _ in range(3)] == ["served", "served", "refused"]  # 0.055 holds five
    finally:
        server.stop()


def test_a_clean_shutdown_writes_every_waiting_entry(tmp_path, fake_openai, fake_anthropic) -> None:
    """The writer waits an hour between batches here: only the shutdown can write them."""
    models = upstream_models(fake_openai, fake_anthropic)
    server = LiveServer(tmp_path, models, metering={"flush_seconds": 3600, "batch_size": 10_000})
    server.start(wait_ready=True, timeout=60)
    try:
        fake_openai.script(*[ow.completion("ok", use=ow.usage(prompt=n, completion=1)) for n in (5, 6, 7)])
        client = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=30)
        for _ in range(3):
            client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}])
        assert entries(server) == []  # still waiting in memory
    finally:
        server.stop()
    with sqlite3.connect(server.workdir / "data" / "switchyard.db") as db:
        rows = db.execute("SELECT input_tokens, outcome FROM request_log ORDER BY input_tokens").fetchall()
    assert rows == [(5, "completed"), (6, "completed"), (7, "completed")]

    # switchyard usage reads the same ledger
    cli = subprocess.run([sys.executable, "-m", "switchyard.cli", "usage", "--config", str(server.config_path),
                          "--data-dir", str(server.workdir / "data"), "--group-by", "project,model", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert [json.loads(line) for line in cli.stdout.splitlines()] == [
        {"project": "proj_default", "model": VIA_OPENAI, "requests": 3, "input_tokens": 18, "cached_tokens": 0,
         "output_tokens": 3, "cost_usd": "0"}]
    table = subprocess.run([sys.executable, "-m", "switchyard.cli", "usage", "--config", str(server.config_path),
                            "--data-dir", str(server.workdir / "data"), "--group-by", "day", "--since", "1d"],
                           capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["day", "requests", "input_tokens", "cached_tokens", "output_tokens", "cost_usd"]
    assert row.split()[1:] == ["3", "18", "0", "3", "0"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def in_one_period(pattern: str, fake: FakeUpstream, scenario: Callable[[str], None],
                  clock: Callable[[], datetime] = _utc_now) -> None:
    """Runs ``scenario`` with the UTC period (``pattern``: month or day) it starts in. The
    server reads the same clock as this test: when the period turned over while the
    scenario ran (a run across midnight UTC, or a month's end), the server rightly counted
    its later calls in the new period, and a failure then says nothing about Switchyard; the
    scenario runs once more, afresh (new project and key), in the new period. A failure with
    no turn-over fails at once, and a second failure always does."""
    for attempt in (1, 2):
        started = clock().strftime(pattern)
        try:
            scenario(started)
            return
        except (AssertionError, pytest.fail.Exception):
            if attempt == 2 or clock().strftime(pattern) == started:
                raise
        fake.reset()


def test_in_one_period_runs_again_only_after_a_turn_over() -> None:
    fake = FakeUpstream("unused")  # never started: only reset
    times = iter([datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC),
                  datetime(2026, 12, 1, 0, 0, 2, tzinfo=UTC)])
    seen: list[str] = []

    def fails_in_november(day: str) -> None:
        seen.append(day)
        assert day != "2026-11-30"

    in_one_period("%Y-%m-%d", fake, fails_in_november, clock=lambda: next(times))
    assert seen == ["2026-11-30", "2026-12-01"]

    same_day = datetime(2026, 12, 1, 12, tzinfo=UTC)
    with pytest.raises(pytest.fail.Exception):
        in_one_period("%Y-%m-%d", fake, lambda day: seen.append(day) or pytest.fail("broken"), clock=lambda: same_day)
    assert seen[2:] == ["2026-12-01"]  # no turn-over: no second run


def test_a_monthly_key_budget_counts_this_month(live, fake_openai) -> None:
    in_one_period("%Y-%m", fake_openai, lambda month: _monthly_key_budget(live, fake_openai, month))


def _monthly_key_budget(live: LiveServer, fake_openai: FakeUpstream, month: str) -> None:
    project = new_project(live.url, "monthly")
    key_id, secret = new_key(live.url, project, "monthly key",
                             spend_limit={"threshold_amount": 2, "interval": "month"})  # 2 cents a month
    fake_openai.script(*[ow.completion("ok", use=ow.usage(prompt=3, completion=10)) for _ in range(3)])
    client = openai.OpenAI(base_url=live.url + "/v1", api_key=secret, max_retries=0, timeout=30)
    answers = []
    for _ in range(3):
        try:
            client.chat.completions.create(model=VIA_OPENAI, max_tokens=10,
                                           messages=[{"role": "user", "content": "hi"}])
            answers.append("served")
        except openai.RateLimitError as error:
            assert error.response.json()["error"]["code"] == "insufficient_quota"
            answers.append("refused")
    assert answers == ["served", "served", "refused"]  # 0.01 each against 0.02 this month
    this_month = httpx.get(live.url + "/v1/organization/spend", headers=ADMIN,
                           params={"api_key_id": key_id, "month": month}).json()
    assert (this_month["month"], this_month["spent"]["exact"]) == (month, "0.02")
    current = httpx.get(live.url + "/v1/organization/spend", headers=ADMIN, params={"api_key_id": key_id}).json()
    assert (current["period"], current["month"], current["spent"]["exact"]) == (month, month, "0.02")
    assert current["budget"] == {"value": 0.02, "currency": "usd", "interval": "month"}
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    assert current["period_start"] == int(start.timestamp()) and current["period_end"] > time.time()
    assert httpx.get(live.url + "/v1/organization/spend", headers=ADMIN,
                     params={"api_key_id": key_id, "month": "2020-01"}).json()["spent"]["exact"] == "0"
    bad = httpx.get(live.url + "/v1/organization/spend", headers=ADMIN,
                    params={"api_key_id": key_id, "month": "11/2026"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "month"


def test_a_daily_project_budget_counts_this_day(live, fake_openai) -> None:
    in_one_period("%Y-%m-%d", fake_openai, lambda today: _daily_project_budget(live, fake_openai, today))


def _daily_project_budget(live: LiveServer, fake_openai: FakeUpstream, today: str) -> None:
    project = new_project(live.url, "daily")
    admin = openai.OpenAI(admin_api_key=MASTER_KEY, base_url=live.url + "/v1", api_key="unused", max_retries=0)
    limit = admin.admin.organization.projects.spend_limit.update(  # type: ignore[arg-type]
        project, threshold_amount=2, currency="USD", interval="day")  # 2 cents a day
    assert (limit.threshold_amount, limit.interval) == (2, "day")
    _, secret = new_key(live.url, project, "daily key")
    fake_openai.script(*[ow.completion("ok", use=ow.usage(prompt=3, completion=10)) for _ in range(2)])
    client = openai.OpenAI(base_url=live.url + "/v1", api_key=secret, max_retries=0, timeout=30)
    for _ in range(2):
        client.chat.completions.create(model=VIA_OPENAI, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=VIA_OPENAI, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "insufficient_quota" and f"project {project}" in caught.value.message
    spend = httpx.get(live.url + "/v1/organization/spend", headers=ADMIN, params={"project_id": project}).json()
    assert (spend["period"], spend["month"], spend["spent"]["exact"]) == (today, None, "0.02")
    assert spend["budget"] == {"value": 0.02, "currency": "usd", "interval": "day"}
    assert spend["period_end"] - spend["period_start"] == 86_400
    yesterday = httpx.get(live.url + "/v1/organization/spend", headers=ADMIN,
                          params={"project_id": project, "period": "2020-01-01"}).json()
    assert (yesterday["period"], yesterday["spent"]["exact"]) == ("2020-01-01", "0")
    lifetime = httpx.get(live.url + "/v1/organization/spend", headers=ADMIN,
                         params={"project_id": "proj_default"}).json()
    assert (lifetime["period"], lifetime["budget"]) == (None, None)  # a budget from the config: its lifetime
    bad = httpx.get(live.url + "/v1/organization/spend", headers=ADMIN, params={"project_id": project,
                                                                                "period": "2026-13-01"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "period"
