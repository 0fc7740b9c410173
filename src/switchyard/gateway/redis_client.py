"""The Redis client of the gateway's shared state (rate limits, budgets): bounded waits on
every step, so a Redis that stops answering delays a call by seconds and never hangs it,
and a bounded pool, so a burst of calls queues for a connection instead of opening one per
call (a burst of 120 admissions under load timed out connecting; Redis's own client limit is
shared by every process)."""

from __future__ import annotations

import redis.asyncio as aioredis

MAX_CONNECTIONS = 64  # per client, i.e. per store and process
WAIT_SECONDS = 2.0  # for a connection from the pool, for a connect, for a reply


def bounded_client(url: str) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=WAIT_SECONDS, socket_timeout=WAIT_SECONDS,
        socket_connect_timeout=WAIT_SECONDS)
    return aioredis.Redis.from_pool(pool)  # closing the client closes the pool
