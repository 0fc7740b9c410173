"""The rate limiter's scripts on one Redis connection, pipelined: the ``EVALSHA``s of every
call made in one turn of the event loop go out in one write at the turn's end, and one reader
hands the replies out in order (Redis answers a connection's commands in the order it got
them). None goes through a pool, a retry wrapper or redis-py's command layer, which cost more
Python per admission than the admission itself.

The connection is redis-py's own (``Connection`` made from the URL by its pool class: TLS,
AUTH, the database number; replies read with hiredis). Every call is bounded: no reply
within ``timeout`` seconds drops the connection (the next call opens a new one) and fails
the calls waiting on it, as a refused connection does."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

CLIENT_NAME = "switchyard-limits"  # as CLIENT LIST shows the connection


def evalsha(sha: str, packed: bytes) -> bytes:
    """``EVALSHA sha 0 packed`` in RESP, ready to write."""
    return b"*4\r\n$7\r\nEVALSHA\r\n$%d\r\n%s\r\n$1\r\n0\r\n$%d\r\n%s\r\n" % (len(sha), sha.encode(), len(packed),
                                                                             packed)


class ScriptChannel:
    def __init__(self, url: str, timeout: float) -> None:
        # only to make connections with the URL's settings; no socket timeout: each call is bounded here
        self._pool = aioredis.ConnectionPool.from_url(url, socket_connect_timeout=timeout, socket_timeout=None,
                                                      client_name=CLIENT_NAME)
        self._timeout = timeout
        self._connection: AbstractConnection | None = None
        self._connecting = asyncio.Lock()
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._outbox: list[bytes] = []  # written at the end of this turn of the loop, in order

    async def call(self, *commands: bytes) -> list[Any]:
        """The replies to ``commands`` (packed), sent in one write; an error reply is its
        exception, in its place. Raises when Redis cannot be reached or does not answer."""
        connection = self._connection
        if connection is None:
            connection = await self._connect()
        loop = asyncio.get_running_loop()
        replies = [loop.create_future() for _ in commands]
        self._waiting.extend(replies)
        if not self._outbox:
            loop.call_soon(self._flush, connection)
        self._outbox.extend(commands)
        try:
            async with asyncio.timeout(self._timeout):
                await replies[-1]  # answered in order: the last one in, all are
        except BaseException as error:
            if isinstance(error, (TimeoutError, OSError, RedisConnectionError)):
                self._drop(connection, error)
            for reply in replies:
                if reply.done() and not reply.cancelled():
                    reply.exception()  # retrieved: raised once, here
            raise
        return [reply.result() for reply in replies]

    def _flush(self, connection: AbstractConnection) -> None:
        if self._connection is not connection:  # dropped meanwhile: its calls have failed
            return
        outbox, self._outbox = self._outbox, []
        writer = connection._writer  # redis-py's own stream; its send_packed_command costs a coroutine per call
        if writer is None:
            self._drop(connection, RedisConnectionError("not connected"))
        else:
            writer.writelines(outbox)

    async def _connect(self) -> AbstractConnection:
        async with self._connecting:
            if self._connection is not None:
                return self._connection
            connection: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
            await connection.connect()  # type: ignore[no-untyped-call]
            self._connection = connection
            self._reader = asyncio.create_task(self._read(connection), name="rate-limit-redis-reader")
            return connection

    async def _read(self, connection: AbstractConnection) -> None:
        waiting = self._waiting
        while True:
            try:
                reply: Any = await connection.read_response(timeout=math.inf, disconnect_on_error=False)
            except ResponseError as error:
                reply = error
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._drop(connection, error)
                return
            if not waiting:  # nobody asked: the stream is out of step, start again
                self._drop(connection, RedisConnectionError("a reply nobody asked for"))
                return
            future = waiting.popleft()
            if not future.done():
                future.set_result(reply)

    def _drop(self, connection: AbstractConnection, error: BaseException) -> None:
        """Forgets the connection (once) and fails every call still waiting on it."""
        if self._connection is not connection:
            return
        self._connection = None
        self._outbox = []
        waiting, self._waiting = self._waiting, deque()
        for future in waiting:
            if not future.done():
                future.set_exception(RedisConnectionError(f"the connection to Redis was dropped: {error!r}"))
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        task = asyncio.get_running_loop().create_task(connection.disconnect(nowait=True))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        for future in self._waiting:
            if not future.done():
                future.set_exception(RedisConnectionError("closed"))
        self._waiting.clear()
        if connection is not None:
            await connection.disconnect()
        await self._pool.disconnect()
