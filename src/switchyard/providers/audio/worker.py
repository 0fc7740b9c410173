"""Blocking work (a model's generator) run on a worker thread and read from asyncio: items
go through a queue as they are made, and a consumer that stops reading stops the producer
at its next item."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")
_END = object()


async def threaded(executor: Executor, produce: Callable[[], Iterator[T]], buffer: int = 8) -> AsyncIterator[T]:
    """Items of ``produce()`` (called on ``executor``) as they come; at most ``buffer`` wait,
    so a slow reader slows the producer instead of filling memory."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    room = threading.Semaphore(buffer)
    stop = threading.Event()

    def send(item: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed (the server is stopping)
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def run() -> None:
        try:
            for item in produce():
                while not room.acquire(timeout=0.2):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                send(item)
        except BaseException as exc:  # handed to the reader, raised there
            send(exc)
        finally:
            send(_END)

    loop.run_in_executor(executor, run)
    try:
        while True:
            item = await queue.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            room.release()
            yield item  # type: ignore[misc]
    finally:
        stop.set()  # the producer returns at its next item (run() never raises)
