"""The scheduled drain's queue side: a chunk received, and messages deleted, with several calls in flight.

botocore clients are thread-safe; every call of every thread is held to the run's one budget (checked
before each call starts, as ``CallGuard`` checks every attempt), so a pool never runs a call past the
run's end. With a pool of one, every call is made in the caller's thread, one after the other.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from streamalert.constants import SQS_MAX_BATCH
from streamalert.deadline import RunBudget
from streamalert.logger import context, get_logger
from streamalert.sqs import QueueMessage, SqsQueue

LOGGER = get_logger(__name__)


@dataclass
class Chunk:
    """What one chunk's receiving got: its messages (each once), the receive calls it made and how long
    it took; ``drained``: a receive found the queue empty; ``error``: why receiving stopped early."""

    messages: list[QueueMessage]
    receives: int = 0
    seconds: float = 0.0
    drained: bool = False
    error: str = ""


@dataclass
class _Receiving:
    """The shared state of a chunk's receiving threads, changed only under ``lock``."""

    limit: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: dict[str, QueueMessage] = field(default_factory=dict)
    reserved: int = 0  # messages asked for by the calls in flight
    receives: int = 0
    drained: bool = False
    error: str = ""

    def claim(self) -> int:
        """How many messages the next call may ask for (0: no call)."""
        with self.lock:
            room = self.limit - len(self.messages) - self.reserved
            if self.drained or self.error or room <= 0:
                return 0
            wanted = min(SQS_MAX_BATCH, room)
            self.reserved += wanted
            return wanted

    def settle(self, wanted: int, batch: list[QueueMessage] | None, error: str = "") -> None:
        """Record a call's answer (``None``: the call was not made or failed, with ``error``)."""
        with self.lock:
            self.reserved -= wanted
            if batch is None:
                self.error = self.error or error
                return
            self.receives += 1
            self.drained = self.drained or not batch
            # SQS may hand out a message twice: it counts once (the latest receipt handle deletes it)
            self.messages.update((message.message_id, message) for message in batch)


class QueueDrain:
    """Receives chunks of a queue and deletes messages, ``concurrency`` calls at a time at most."""

    def __init__(self, queue: SqsQueue, executor: Executor | None, concurrency: int) -> None:
        self._queue = queue
        self._executor = executor
        self._concurrency = concurrency if executor is not None else 1
        self._backlog = False  # a receive came back full: the queue holds more, the pool may start

    @classmethod
    @contextmanager
    def opened(cls, queue: SqsQueue, concurrency: int) -> Iterator[QueueDrain]:
        """A drain whose pool lives as long as the ``with`` block (one run): no thread outlives the run."""
        if concurrency <= 1:
            yield cls(queue, None, 1)
            return
        with ThreadPoolExecutor(concurrency, thread_name_prefix="refresh-drain") as executor:
            yield cls(queue, executor, concurrency)

    def receive(
        self, limit: int, budget: RunBudget, *, wait_seconds: int, visibility: Callable[[], float]
    ) -> Chunk:
        """Up to ``limit`` messages: calls start while ``budget`` allows and stop at the first empty answer
        (the queue is drained) or failed call; the calls in flight then end, none starts. A long poll
        never waits past the budget; a message is hidden for ``visibility()`` seconds from its receive."""
        state = _Receiving(limit)
        started = budget.deadline.remaining_seconds()

        def receive_until_done(calls: float = math.inf) -> None:
            made = 0
            while made < calls and (wanted := state.claim()):
                made += 1
                if not budget.may_call():
                    state.settle(wanted, None)
                    return
                wait = int(budget.wait_seconds(wait_seconds))
                try:
                    batch = self._queue.receive(
                        wait_seconds=wait, visibility_seconds=visibility(), max_messages=wanted
                    )
                except (ClientError, BotoCoreError) as err:
                    LOGGER.error("Receiving failed: the chunk stops here", extra=context(error=str(err)))
                    state.settle(wanted, None, str(err))
                    return
                state.settle(wanted, batch)

        if not self._backlog:
            # one call first: an empty queue costs one receive, not one a thread
            receive_until_done(calls=1)
            self._backlog = state.receives > 0 and len(state.messages) >= min(limit, SQS_MAX_BATCH)
        if self._backlog:
            self._in_parallel([receive_until_done] * self._concurrency)
        return Chunk(
            list(state.messages.values()),
            receives=state.receives,
            seconds=started - budget.deadline.remaining_seconds(),
            drained=state.drained,
            error=state.error,
        )

    def delete(self, messages: list[QueueMessage], budget: RunBudget) -> int:
        """Delete the messages, 10 a call, each call only while ``budget`` allows; how many really went.
        A message not deleted is only received again once its visibility ends."""
        batches = [
            messages[start : start + SQS_MAX_BATCH] for start in range(0, len(messages), SQS_MAX_BATCH)
        ]
        workers = min(self._concurrency, len(batches))
        # each thread deletes every n-th batch: n calls in flight until the last ones
        shares = [[m for batch in batches[worker::workers] for m in batch] for worker in range(workers)]
        not_deleted: list[int] = []
        lock = threading.Lock()

        def delete_share(share: list[QueueMessage]) -> Callable[[], None]:
            def run() -> None:
                left = len(self._queue.delete(share, budget.may_call))
                with lock:
                    not_deleted.append(left)

            return run

        self._in_parallel([delete_share(share) for share in shares])
        return len(messages) - sum(not_deleted)

    def _in_parallel(self, tasks: list[Callable[[], None]]) -> None:
        if self._executor is None:
            for task in tasks:
                task()
            return
        for future in [self._executor.submit(task) for task in tasks]:
            future.result()


@dataclass
class DrainPace:
    """How fast this run's chunks went, to tell how much time the next chunk must keep for itself: the
    seconds a received message takes (deleting it takes as many calls, on the same pool, each about as
    long as a receive) and the longest commit of a chunk so far. Before the first chunk nothing is known:
    its receiving leaves ``first_share`` of the run's time to the rest. Seconds are the run's deadline's
    (Lambda's clock), as every other decision on time."""

    first_share: float
    received: int = 0
    receive_seconds: float = 0.0
    longest_commit: float = 0.0

    def record_receive(self, chunk: Chunk) -> None:
        self.received += len(chunk.messages)
        self.receive_seconds += chunk.seconds

    def record_commit(self, seconds: float) -> None:
        self.longest_commit = max(self.longest_commit, seconds)

    def delete_seconds(self, messages: int) -> float:
        """How long deleting ``messages`` takes at this run's receive rate."""
        return self.receive_seconds / self.received * messages if self.received else 0.0

    def chunk_reserve(self, messages: int, remaining_seconds: float) -> float:
        """What a chunk's receiving must leave to commit and delete ``messages``."""
        if not self.received:
            return remaining_seconds * self.first_share
        return self.longest_commit + self.delete_seconds(messages)
