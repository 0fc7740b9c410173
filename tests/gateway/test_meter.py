"""A request's meter: the entry it writes once the answer is out and every call ended, and
the outcome it takes from how its calls and its answer ended."""

from __future__ import annotations

import pytest

from switchyard.config import MeteringConfig
from switchyard.core.usage import Usage
from switchyard.gateway.auth import Principal
from switchyard.gateway.budgets import Budgets
from switchyard.gateway.call_scope import CallScope
from switchyard.gateway.meter import Meter
from switchyard.store import Database
from switchyard.store.budgets import BudgetRepository
from switchyard.store.ledger import LedgerEntry


def _meter(written: list[LedgerEntry], left: str = "client_disconnected") -> Meter:
    config = MeteringConfig()
    budgets = Budgets(BudgetRepository(Database("sqlite+aiosqlite://")), config)  # never reached: no prices
    scope = CallScope(Principal(owner_id="proj_a", key_id="key_a"), "openai.chat")
    return Meter(scope, budgets=budgets, config=config, settle=lambda call: None, write=written.append,
                 left_outcome=left)


# (outcomes of the calls, HTTP status, client left) -> the request's outcome
CASES = [
    (["completed"], 200, False, "completed"),
    (["completed", "completed"], 200, False, "completed"),
    (["completed", "upstream_error"], 200, False, "upstream_error"),
    (["insufficient_quota"], 429, False, "insufficient_quota"),
    (["client_disconnected"], 200, True, "client_disconnected"),
    (["completed"], 200, True, "client_disconnected"),  # the model finished, the answer never got out
    (["upstream_error"], 200, True, "upstream_error"),  # the worse of the two
    (["completed"], 500, False, "error"),  # e.g. storing the response failed
    (["error"], 400, False, "error"),
]


@pytest.mark.parametrize(("calls", "status", "left", "outcome"), CASES)
def test_outcome(calls: list[str], status: int, left: bool, outcome: str) -> None:
    written: list[LedgerEntry] = []
    meter = _meter(written)
    for ending in calls:
        call = meter.open_call("completions", "m")
        call.outcome = ending
        meter.end_call(call)
    meter.answered(status, client_left=left)
    [entry] = written
    assert (entry.outcome, entry.status) == (outcome, status)


def test_the_entry_waits_for_the_answer_and_for_every_call() -> None:
    written: list[LedgerEntry] = []
    meter = _meter(written)
    first, second = meter.open_call("completions", "m"), meter.open_call("completions", "m")
    first.usage, second.usage = Usage(10, 1, 4), Usage(20, 2, 0, 0, 1)
    first.cost_nanousd, second.cost_nanousd = 5, 7
    meter.end_call(first)
    meter.answered(200)
    assert written == [] and not meter.idle  # the second call still runs
    meter.end_call(second)
    meter.end_call(second)  # ending twice changes nothing
    [entry] = written
    assert (entry.input_tokens, entry.output_tokens, entry.cached_input_tokens, entry.reasoning_tokens) == (30, 3, 4, 1)
    assert (entry.cost_nanousd, entry.model_requests, entry.key_id, entry.owner_id) == (12, 2, "key_a", "proj_a")
    assert entry.request_id == meter.scope.request_id and first.id == f"{entry.request_id}:1"


def test_an_embedding_inside_a_model_request_adds_its_cost_not_its_tokens() -> None:
    written: list[LedgerEntry] = []
    meter = _meter(written)
    turn = meter.open_call("completions", "chat")
    turn.usage, turn.cost_nanousd = Usage(10, 2), 100
    meter.end_call(turn)
    search = meter.open_call("embeddings", "embed")
    search.usage, search.cost_nanousd = Usage(50), 3
    meter.end_call(search)
    meter.answered(200)
    [entry] = written
    assert (entry.kind, entry.model, entry.input_tokens, entry.cost_nanousd) == ("completions", "chat", 10, 103)


def test_a_call_that_ends_after_the_entry_was_written_makes_another() -> None:
    written: list[LedgerEntry] = []
    meter = _meter(written, left="cancelled")
    meter.end_call(meter.open_call("completions", "m"))
    meter.answered(None)
    late = meter.open_call("completions", "m")
    late.outcome = "cancelled"
    meter.end_call(late)
    assert [e.outcome for e in written] == ["completed", "cancelled"]
    assert len({e.request_id for e in written}) == 1


def test_flush_writes_a_request_whose_calls_still_run() -> None:
    written: list[LedgerEntry] = []
    meter = _meter(written)
    meter.end_call(meter.open_call("completions", "m"))
    meter.open_call("completions", "m")
    assert meter.pending and written == []
    meter.flush()
    assert len(written) == 1
