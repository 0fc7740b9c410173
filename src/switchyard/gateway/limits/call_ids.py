"""Ids of admitted calls: unique across every process sharing a limits store (they are the
members of its Redis sets), without asking the OS for random bytes per call: a random
prefix per process (drawn again in a forked child) and a counter."""

from __future__ import annotations

import itertools
import os
import secrets


class _CallIds:
    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._count = itertools.count(1)

    def new(self) -> str:
        return f"{self._prefix}{next(self._count):x}"


_ids = _CallIds()


def new_call_id() -> str:
    return _ids.new()
