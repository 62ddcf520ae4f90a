"""The drain's queue side on the in-memory queue and a virtual clock: what each chunk receives, what is
deleted, how many calls it takes, and that no call starts without time for it, with calls in flight."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from apps.athena_refresh.drain import Chunk, DrainPace, QueueDrain
from streamalert.deadline import Deadline, RunBudget
from streamalert.sqs import QueueMessage, SqsQueue
from streamalert_cli.testing.clock import VirtualClock
from streamalert_cli.testing.sqs import InMemorySqs

CALL_SECONDS = 0.5
MARGIN = 5.0


class TimedSqs:
    """The in-memory queue's API, one call at a time (the fake is not thread-safe; SQS is), each call
    ending ``CALL_SECONDS`` of the virtual clock after it started (calls made together end together, as
    on AWS); notes the time left when each call starts."""

    def __init__(self, queue: InMemorySqs, ends_at: float) -> None:
        self.queue = queue
        self.ends_at = ends_at
        self.started_with: list[tuple[str, float]] = []
        self.fail: dict[str, Callable[[dict[str, Any]], bool]] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.queue, name)
        operation = InMemorySqs.OPERATIONS.get(name)
        if operation is None:
            return real

        def call(**params: Any) -> Any:
            started = self.queue.clock.now  # calls in flight together overlap: each ends CALL_SECONDS later
            with self._lock:
                self.started_with.append((operation, self.ends_at - started))
                self.queue.clock.advance(started + CALL_SECONDS - self.queue.clock.now)
                if self.fail.get(operation, lambda _: False)(params):
                    raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, operation)
                return real(**params)

        return call

    def calls(self, operation: str) -> int:
        return sum(1 for name, _ in self.started_with if name == operation)


def setup(messages: int, seconds: float = 600.0) -> tuple[TimedSqs, SqsQueue, RunBudget]:
    clock = VirtualClock()
    fake = InMemorySqs(clock, "refresh")
    for n in range(messages):
        fake.send(f"body {n}")
    timed = TimedSqs(fake, ends_at=seconds)
    deadline = Deadline(lambda: (seconds - clock.now) * 1000)
    return timed, SqsQueue(timed, fake.url), RunBudget(deadline, MARGIN)  # type: ignore[arg-type]


def receive(drain: QueueDrain, limit: int, budget: RunBudget) -> Chunk:
    return drain.receive(limit, budget, wait_seconds=0, visibility=budget.hidden_seconds)


@pytest.mark.parametrize("concurrency", [1, 4, 16])
def test_a_chunk_holds_exactly_its_limit_each_message_once(concurrency: int) -> None:
    timed, queue, budget = setup(95)

    with QueueDrain.opened(queue, concurrency) as drain:
        first = receive(drain, 43, budget)
        second = receive(drain, 43, budget)

    assert len(first.messages) == len(second.messages) == 43
    assert not first.drained
    ids = [m.message_id for m in first.messages + second.messages]
    assert len(set(ids)) == 86
    assert timed.calls("ReceiveMessage") == 2 * 5, "four calls of 10 and one of 3 a chunk, never more"


def test_an_empty_queue_costs_one_receive_whatever_the_pool() -> None:
    timed, queue, budget = setup(0)

    with QueueDrain.opened(queue, 16) as drain:
        chunk = receive(drain, 1_000, budget)

    assert chunk.drained
    assert chunk.messages == []
    assert timed.calls("ReceiveMessage") == 1


def test_a_short_queue_never_starts_the_pool() -> None:
    timed, queue, budget = setup(7)

    with QueueDrain.opened(queue, 16) as drain:
        chunk = receive(drain, 1_000, budget)
        rest = receive(drain, 1_000, budget)

    assert len(chunk.messages) == 7
    assert rest.drained
    assert timed.calls("ReceiveMessage") == 2


def test_a_drained_backlog_costs_at_most_one_empty_poll_a_call_in_flight() -> None:
    timed, queue, budget = setup(200)

    with QueueDrain.opened(queue, 8) as drain:
        chunk = receive(drain, 1_000, budget)

    assert len(chunk.messages) == 200
    assert chunk.drained
    assert 20 < timed.calls("ReceiveMessage") <= 20 + 8


@pytest.mark.parametrize("concurrency", [1, 8])
def test_no_receive_starts_without_time_for_it(concurrency: int) -> None:
    # 20 s: the margin leaves 15 s, each call takes 0.5 s: 30 rounds of calls at most
    timed, queue, budget = setup(10_000, seconds=20.0)

    with QueueDrain.opened(queue, concurrency) as drain:
        chunk = receive(drain, 10_000, budget)

    starts = [left for _, left in timed.started_with]
    assert min(starts) > MARGIN, "every call started before the margin"
    assert budget.deadline.remaining_seconds() >= MARGIN - CALL_SECONDS
    assert len(chunk.messages) == 10 * len(starts)
    assert 30 <= len(starts) <= 30 * concurrency
    assert not chunk.drained


def test_a_failing_receive_stops_the_chunk_and_keeps_what_came() -> None:
    timed, queue, budget = setup(100)
    timed.fail["ReceiveMessage"] = lambda _: timed.calls("ReceiveMessage") == 3

    with QueueDrain.opened(queue, 1) as drain:
        chunk = receive(drain, 1_000, budget)

    assert len(chunk.messages) == 20
    assert "boom" in chunk.error
    assert timed.calls("ReceiveMessage") == 3


@pytest.mark.parametrize("concurrency", [1, 4])
def test_deletes_go_ten_a_call_spread_over_the_pool(concurrency: int) -> None:
    timed, queue, budget = setup(95)

    with QueueDrain.opened(queue, concurrency) as drain:
        chunk = receive(drain, 95, budget)
        deleted = drain.delete(chunk.messages, budget)

    assert deleted == 95
    assert timed.calls("DeleteMessageBatch") == 10
    assert timed.queue.messages == {}


def test_no_delete_starts_without_time_for_it() -> None:
    timed, queue, budget = setup(100, seconds=20.0)

    with QueueDrain.opened(queue, 4) as drain:
        chunk = receive(drain, 100, budget)  # 10 calls: 5 s of the 15 the margin leaves
        budget_for_two = RunBudget(budget.deadline, MARGIN + 9.0)  # 1 s left: two calls start
        deleted = drain.delete(chunk.messages, budget_for_two)

    assert timed.calls("DeleteMessageBatch") == 2
    assert deleted == 20
    assert len(timed.queue.messages) == 80


def test_a_failing_delete_with_calls_in_flight_keeps_only_its_batch() -> None:
    timed, queue, budget = setup(40)
    failing: list[str] = []

    def fail_once(params: dict[str, Any]) -> bool:
        if failing:
            return False
        failing.extend(entry["Id"] for entry in params["Entries"])
        return True

    with QueueDrain.opened(queue, 4) as drain:
        chunk = receive(drain, 40, budget)
        timed.fail["DeleteMessageBatch"] = fail_once
        deleted = drain.delete(chunk.messages, budget)

    assert deleted == 30
    assert set(timed.queue.messages) == set(failing)


def test_the_first_chunk_leaves_its_share_then_each_chunk_keeps_what_the_run_measured() -> None:
    pace = DrainPace(first_share=0.5)
    messages = [QueueMessage(str(n), "h", "b") for n in range(100)]

    assert pace.chunk_reserve(100, remaining_seconds=40.0) == 20.0
    pace.record_receive(Chunk(messages, receives=10, seconds=2.0))
    pace.record_commit(3.0)
    pace.record_commit(1.0)

    assert pace.delete_seconds(50) == pytest.approx(1.0)
    assert pace.chunk_reserve(100, remaining_seconds=40.0) == pytest.approx(3.0 + 2.0), (
        "the longest commit so far and the deletes at the receive rate"
    )
