"""Seeded fault injection at every AWS call site: across 500 runs nothing announced is lost, nothing else is
registered, and no message is deleted before the partitions it announced were committed.

A run: a fresh database and queue, notifications arriving in waves, a few invocations under faults (with
an occasional cold container), then calm invocations without faults. Afterwards every message is either
deleted (and then everything it announced was committed before the delete), or still on the queue or in
the dead-letter queue. Replay one run with ``run_once(seed)``; the seed is in every failure message (a run
whose drain has calls in flight replays its faults in the order its threads happened to call).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from apps.athena_refresh.plan import RefreshPlan
from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from streamalert.athena import AthenaQueryRunner, QueryOutcome
from streamalert.deadline import Deadline, RunBudget
from streamalert.glue import GlueCatalog
from streamalert.sqs import QueueMessage
from tests.helpers import S3_TEST_EVENT, s3_record
from tests.reliability.conftest import (
    LAYOUTS,
    QUEUE,
    TIMEOUT_SECONDS,
    Catalog,
    build_refresher,
)
from tests.reliability.fault_injection import (
    ClockContext,
    FakeSqs,
    FaultInjector,
    PartitionId,
    VirtualClock,
)

RUNS = 500
FAULTY_INVOCATIONS = (2, 7)  # at random from this range, per run
CALM_INVOCATIONS = 4
SCHEDULE_SECONDS = 600.0
EVENT_SOURCE_VISIBILITY = 360
EVENT_SOURCE_BATCHES = 8
FAULT_RATES = (0.05, 0.15, 0.3, 0.5)
REGIONS = ("us-east-1", "eu-west-1")
DRAIN_CONCURRENCY = (1, 4, 16)
CHUNK_MESSAGES = (7, 20, 1_000)


@dataclass(frozen=True)
class Announcement:
    """What a message announces, by construction: the partitions (or repairs) it needs, and whether it may
    be deleted at all (a message with an unreadable or unroutable record must stay)."""

    needs: frozenset[PartitionId | str]
    deletable: bool


def poison_record(rng: random.Random, name: str) -> tuple[dict[str, object], bool]:
    """A record the refresher cannot register, and whether its message may still be deleted for it."""
    kind = rng.randrange(5)
    if kind == 0:
        return s3_record("acme-unmapped", f"x/dt=2024-01-01-01/{name}"), False
    if kind == 1:
        return s3_record("acme.streamalerts", f"alerts/no-layout/{name}"), False
    if kind == 2:
        return s3_record("acme-waf", f"dt=2024-01-01-01/{name}"), False  # waf has (region, dt)
    if kind == 3:
        return s3_record("acme.streamalerts", "alerts/dt=2024-01-01-01_$folder$"), True
    return s3_record("acme.streamalerts", f"alerts/dt=2024-01-01-01/{name}", "ObjectRemoved:Delete"), True


def make_message(rng: random.Random, serial: int) -> tuple[str, Announcement]:
    roll = rng.random()
    if roll < 0.04:
        return "{not json", Announcement(frozenset(), deletable=False)
    if roll < 0.07:
        return S3_TEST_EVENT, Announcement(frozenset(), deletable=True)
    records, needs, deletable = [], set(), True
    for index in range(rng.choice((1, 1, 1, 2, 3))):
        name = f"o{serial}-{index}"
        if rng.random() < 0.08:
            record, record_deletable = poison_record(rng, name)
            records.append(record)
            deletable = deletable and record_deletable
            continue
        layout = rng.choice(LAYOUTS)  # few partitions per table: messages share them
        key = layout.key(rng.choice(REGIONS), rng.randint(1, 2), rng.randint(0, 3), name)
        records.append(s3_record(layout.bucket, key))
        needs.add(layout.partition(key))
    return json.dumps({"Records": records}), Announcement(frozenset(needs), deletable)


@dataclass
class RunResult:
    seed: int
    invocations: int = 0
    raised: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    deleted: int = 0
    dead_lettered_good: int = 0
    still_queued_good: int = 0
    registered: int = 0
    overruns: int = 0
    lost: list[str] = field(default_factory=list)
    let_in: list[str] = field(default_factory=list)


def invoke(
    refresher: PartitionRefresher,
    sqs: FakeSqs,
    injector: FaultInjector,
    event_source: bool,
    result: RunResult,
) -> None:
    """One scheduled invocation, or the event source mapping's invocations until the queue looks empty (it
    receives a batch, invokes, and deletes the messages the function did not report as failed)."""
    for _ in range(1 if not event_source else EVENT_SOURCE_BATCHES):
        batch = sqs.take(10, EVENT_SOURCE_VISIBILITY) if event_source else []
        if event_source and not batch:
            return
        context = ClockContext(injector.clock, TIMEOUT_SECONDS)
        deadline = Deadline.from_context(context)
        result.invocations += 1
        try:
            if not event_source:
                refresher.run_scheduled(deadline)
            else:
                messages = [QueueMessage(m.message_id, m.receipt_handle, m.body) for m in batch]
                response = refresher.run_event_source(messages, deadline)
                failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
                for message in batch:
                    if message.message_id not in failed:
                        sqs.delete(message.receipt_handle)
        except Exception as err:  # the harness goes on: what matters is that nothing is lost
            mode = "event-source" if event_source else "scheduled"
            result.raised[f"{mode}:{type(err).__name__} from {injector.last_fault}"] += 1
        if context.get_remaining_time_in_millis() <= 0:
            result.overruns += 1


def run_once(seed: int, catalog: Catalog) -> RunResult:
    rng = random.Random(seed)
    clock = VirtualClock()
    injector = FaultInjector(random.Random(f"faults-{seed}"), clock, rate=rng.choice(FAULT_RATES))
    database = catalog.new_database(f"run_{seed:05d}")
    sqs = FakeSqs(clock, QUEUE)
    clients = (
        injector.wrap(sqs, FakeSqs.OPERATIONS),
        injector.wrap(catalog.glue),
        injector.wrap(catalog.athena),
    )
    event_source = rng.random() < 0.3
    # the scheduled drain one call at a time or with calls in flight, in one chunk or in several
    settings = RefreshSettings(
        concurrency=rng.choice(DRAIN_CONCURRENCY), chunk_messages=rng.choice(CHUNK_MESSAGES)
    )
    result = RunResult(seed)
    oracle: dict[str, Announcement] = {}
    sent: list[tuple[str, Announcement]] = []
    waves = [rng.randint(3, 25), rng.choice((0, 0, 5, 15)), rng.choice((0, 8))]
    refresher: PartitionRefresher | None = None
    faulty = rng.randint(*FAULTY_INVOCATIONS)
    for invocation in range(faulty + CALM_INVOCATIONS):
        if invocation == faulty:
            injector.rate = 0.0
        if invocation >= faulty and not sqs.has_deliverable(lambda m: oracle[m.message_id].deletable):
            break
        for _ in range(waves.pop(0) if waves else 0):
            if sent and rng.random() < 0.05:  # S3 delivers at least once: the same notification again
                body, announcement = rng.choice(sent)
            else:
                body, announcement = make_message(rng, len(oracle))
            sent.append((body, announcement))
            oracle[sqs.send(body)] = announcement
        if refresher is None or rng.random() < 0.25:  # a cold container
            refresher = build_refresher(*clients, database, clock, settings=settings)
        invoke(refresher, sqs, injector, event_source, result)
        clock.advance(SCHEDULE_SECONDS)
    result.faults = injector.faults
    check(result, oracle, sqs, injector, catalog.partitions(database))
    return result


def check(
    result: RunResult,
    oracle: dict[str, Announcement],
    sqs: FakeSqs,
    injector: FaultInjector,
    catalog: set[PartitionId],
) -> None:
    """The invariants, with the evidence of each violation appended to ``result``."""
    assert catalog == set(injector.partitions), f"seed {result.seed}: the ledger disagrees with the catalog"
    committed: dict[PartitionId, float] = dict(injector.partitions)
    repairs: dict[str, list[tuple[float, float]]] = {}
    for statement, run in injector.committed():
        at = run.committed_at or 0.0
        if statement.repair:
            repairs.setdefault(statement.table, []).append((run.started_at, at))
        for _columns, values, location in statement.partitions:
            key = (statement.table, values, location)
            committed[key] = min(committed.get(key, at), at)
    announced = {need for a in oracle.values() for need in a.needs}
    result.let_in = [str(p) for p in committed if p not in announced]
    result.let_in += [f"MSCK {table}" for table in repairs if table not in announced]
    result.registered = len(committed)
    result.sent = len(oracle)
    for message_id, announcement in oracle.items():
        deleted_at = sqs.deleted_at.get(message_id)
        if deleted_at is None:
            assert message_id in sqs.messages or message_id in sqs.dead_letters
            if announcement.deletable and announcement.needs:
                result.dead_lettered_good += message_id in sqs.dead_letters
                result.still_queued_good += message_id in sqs.messages
            continue
        result.deleted += 1
        if not announcement.deletable:
            result.lost.append(f"{message_id}: deleted though it must stay")
        sent_at = sqs.sent[message_id].sent_at
        for need in announcement.needs:
            if isinstance(need, str):
                done = any(start >= sent_at and end <= deleted_at for start, end in repairs.get(need, ()))
            else:
                done = committed.get(need, float("inf")) <= deleted_at
            if not done:
                result.lost.append(f"{message_id}: deleted at {deleted_at:.2f} before {need} was committed")


def report(line: str) -> None:
    print(line, file=sys.__stdout__)


def test_nothing_is_lost_and_nothing_let_in_across_500_seeded_runs(catalog: Catalog) -> None:
    started = time.perf_counter()
    results = [run_once(seed, catalog) for seed in range(RUNS)]
    elapsed = time.perf_counter() - started

    faults = sum((r.faults for r in results), Counter())
    raised = sum((r.raised for r in results), Counter())
    lost = [f"seed {r.seed}: {line}" for r in results for line in r.lost]
    let_in = [f"seed {r.seed}: {line}" for r in results for line in r.let_in]
    report(
        f"\nfault injection: {len(results)} runs in {elapsed:.1f} s, "
        f"{sum(r.invocations for r in results)} invocations, {sum(faults.values())} faults injected"
    )
    report(
        f"  messages sent {sum(r.sent for r in results)}, deleted {sum(r.deleted for r in results)}, "
        f"good ones dead-lettered {sum(r.dead_lettered_good for r in results)}, "
        f"good ones still queued {sum(r.still_queued_good for r in results)}"
    )
    report(
        f"  partitions registered {sum(r.registered for r in results)}, partitions lost {len(lost)}, "
        f"let in {len(let_in)}, deadline overruns {sum(r.overruns for r in results)}"
    )
    report(f"  invocations that raised: {sum(raised.values())} {dict(sorted(raised.items()))}")
    report(f"  faults by kind: {dict(sorted(faults.items()))}")

    assert len(results) >= 500
    assert sum(faults.values()) > 1000
    assert not lost, "\n".join(lost[:20])
    assert not [kind for kind in raised if kind.startswith("event-source")], (
        "it reports failures, never raises"
    )
    assert not let_in, "\n".join(let_in[:20])
    assert sum(r.still_queued_good for r in results) == 0, "good messages left behind once the faults stop"


def ignore_glue_errors(original: Any) -> Any:
    return lambda self, table, partitions, budget: original(self, table, partitions, budget) and set()


def trust_every_query(original: Any) -> Any:
    return lambda self, queries, budget: [
        QueryOutcome(o.query, True) for o in original(self, queries, budget)
    ]


def delete_first(original: Any) -> Any:
    def commit(self: PartitionRefresher, messages: list[QueueMessage], budget: RunBudget, *rest: Any) -> Any:
        if self._queue is not None and messages:
            self._queue.delete(messages)
        return original(self, messages, budget, *rest)

    return commit


SABOTAGES = {
    "Glue errors ignored": (GlueCatalog, "create_partitions", ignore_glue_errors),
    "failed queries trusted": (AthenaQueryRunner, "run", trust_every_query),
    "messages deleted before the commit": (PartitionRefresher, "_commit", delete_first),
    "unreadable messages deleted": (
        RefreshPlan,
        "handled",
        lambda _original: lambda self, done: [p for p in self.messages if p.needs <= done],
    ),
}


@pytest.mark.parametrize("sabotage", SABOTAGES.values(), ids=SABOTAGES.keys())
def test_the_harness_sees_a_refresher_that_loses_messages(
    sabotage: tuple[type, str, Any], catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, name, replace = sabotage
    monkeypatch.setattr(owner, name, replace(owner.__dict__[name]))

    results = [run_once(seed, catalog) for seed in range(40)]

    assert sum(len(result.lost) for result in results) > 0
