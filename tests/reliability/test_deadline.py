"""Time: a run returns before its Lambda timeout, whatever time it starts with, however slow AWS answers
and however long Athena takes. Every AWS call costs virtual time; Athena polls sleep on the same clock."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from streamalert.aws import AwsSettings
from streamalert.config import load_config
from streamalert.deadline import Deadline
from tests.helpers import s3_body
from tests.reliability.conftest import LAYOUTS, QUEUE, Catalog, build_refresher
from tests.reliability.fault_injection import ClockContext, FakeSqs, FaultInjector, VirtualClock

NEVER = 10_000.0  # an Athena query that is still running when any run ends
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shared_catalog() -> Iterator[Catalog]:
    with mock_aws():
        yield Catalog()


_databases = iter(range(1_000_000))


@dataclass
class Stage:
    sqs: FakeSqs
    injector: FaultInjector
    refresher: PartitionRefresher

    def run(self, seconds: float) -> tuple[dict[str, Any], ClockContext]:
        context = ClockContext(self.sqs.clock, seconds)
        return self.refresher.run_scheduled(Deadline.from_context(context)), context


def stage(
    catalog: Catalog,
    *,
    latency: float,
    query_seconds: float | None,
    messages: int,
    client_settings: AwsSettings | None = None,
    refresh: RefreshSettings | None = None,
) -> Stage:
    """A queue of ``messages`` notifications over every table; each AWS call takes ``latency`` seconds.
    ``client_settings``: the deployment's clients, whose timeouts decide the run's margin; ``refresh``:
    the drain's settings (the defaults: a pool of calls in flight)."""
    clock = VirtualClock()
    sqs = FakeSqs(clock, QUEUE)
    injector = FaultInjector(random.Random(0), clock, call_seconds=latency, query_seconds=query_seconds)
    database = catalog.new_database(f"deadline_{next(_databases)}")
    for n in range(messages):
        layout = LAYOUTS[n % len(LAYOUTS)]
        sqs.send(s3_body((layout.bucket, layout.key("us-east-1", 1 + n % 2, n % 4, f"o{n}"))))
    clients = (
        injector.wrap(sqs, FakeSqs.OPERATIONS),
        injector.wrap(catalog.glue),
        injector.wrap(catalog.athena),
    )
    refresher = build_refresher(*clients, database, clock, client_settings=client_settings, settings=refresh)
    return Stage(sqs, injector, refresher)


@pytest.mark.parametrize("seconds", [11, 15, 30, 60, 300, 900])
@pytest.mark.parametrize("latency", [0.005, 0.05, 0.2])
@pytest.mark.parametrize("query_seconds", [None, NEVER], ids=["athena-fast", "athena-stuck"])
@pytest.mark.parametrize("concurrency", [1, 32], ids=["serial", "pool"])
def test_a_run_returns_before_its_timeout(
    shared_catalog: Catalog, seconds: float, latency: float, query_seconds: float | None, concurrency: int
) -> None:
    refresh = RefreshSettings(concurrency=concurrency, chunk_messages=25)
    work = stage(shared_catalog, latency=latency, query_seconds=query_seconds, messages=60, refresh=refresh)

    summary, context = work.run(seconds)

    assert context.get_remaining_time_in_millis() > 0
    assert summary["messages_received"] > 0
    if query_seconds == NEVER:
        assert all(run.stopped_at is not None for run in work.injector.queries.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seconds=st.floats(1, 120),
    latency=st.floats(0, 0.1),
    query_seconds=st.one_of(st.none(), st.floats(0, 200)),
    messages=st.integers(0, 100),
    concurrency=st.sampled_from((1, 4, 32)),
    chunk_messages=st.integers(1, 120),
)
def test_no_mix_of_time_latency_and_slow_queries_outlives_the_timeout(
    shared_catalog: Catalog,
    *,
    seconds: float,
    latency: float,
    query_seconds: float | None,
    messages: int,
    concurrency: int,
    chunk_messages: int,
) -> None:
    refresh = RefreshSettings(concurrency=concurrency, chunk_messages=chunk_messages)
    work = stage(
        shared_catalog, latency=latency, query_seconds=query_seconds, messages=messages, refresh=refresh
    )

    _summary, context = work.run(seconds)

    assert context.get_remaining_time_in_millis() > 0


def test_a_stuck_query_beside_a_backlog_leaves_time_to_delete(shared_catalog: Catalog) -> None:
    work = stage(shared_catalog, latency=0.03, query_seconds=NEVER, messages=2000)

    summary, context = work.run(60)

    assert summary["messages_deleted"] > 0
    assert context.get_remaining_time_in_millis() > 0


class TimedCalls(FaultInjector):
    """Every call of every service takes ``call_seconds``; notes when each call started and ended."""

    def __init__(self, clock: VirtualClock, seconds: float) -> None:
        super().__init__(random.Random(0), clock, call_seconds=seconds)
        self.calls: list[tuple[str, float, float]] = []

    def _call(self, operation: str, real: Any, params: dict[str, Any], started: float) -> Any:
        try:
            return super()._call(operation, real, params, started)
        finally:
            self.calls.append((operation, started, self.clock.now))


@pytest.mark.parametrize("concurrency", [1, 8, 32])
def test_a_pool_of_slow_calls_ends_every_call_before_the_timeout_and_deletes_only_the_committed(
    shared_catalog: Catalog, concurrency: int
) -> None:
    """2,000 messages over every table, every call 0.4 s (an attempt may last that long), chunks of 100:
    the run cannot drain them all in 30 s. No call of any thread ends past the timeout, and every
    message deleted was deleted after the partitions it announced were written."""
    clock = VirtualClock()
    sqs = FakeSqs(clock, QUEUE)
    for n in range(2_000):
        layout = LAYOUTS[n % len(LAYOUTS)]
        sqs.send(s3_body((layout.bucket, layout.key("us-east-1", 1 + n % 2, n % 4, f"o{n}"))))
    timed = TimedCalls(clock, 0.4)
    database = shared_catalog.new_database(f"deadline_{next(_databases)}")
    refresher = build_refresher(
        timed.wrap(sqs, FakeSqs.OPERATIONS),
        timed.wrap(shared_catalog.glue),
        timed.wrap(shared_catalog.athena),
        database,
        clock,
        attempt_seconds=0.4,
        settings=RefreshSettings(concurrency=concurrency, chunk_messages=100),
    )
    context = ClockContext(clock, 30)

    summary = refresher.run_scheduled(Deadline.from_context(context))

    assert context.get_remaining_time_in_millis() > 0
    assert all(ended <= context.ends_at for _operation, _started, ended in timed.calls)
    assert 0 < summary["messages_deleted"] < 2_000
    assert summary["messages_deleted"] == len(sqs.deleted_at)
    written = shared_catalog.partitions(database)
    first_write = min((ended for operation, _s, ended in timed.calls if operation == "BatchCreatePartition"))
    assert written, "partitions were written"
    assert min(sqs.deleted_at.values()) >= first_write, "no message deleted before the first commit"


def test_with_less_than_the_safety_margin_left_no_aws_call_is_made(shared_catalog: Catalog) -> None:
    work = stage(shared_catalog, latency=0.5, query_seconds=None, messages=5)

    summary, context = work.run(0.4)  # under the half second a run needs at least

    assert summary["messages_received"] == 0
    assert context.get_remaining_time_in_millis() > 0


def accepted_timeout(timeout: int, directory: Path) -> bool:
    """True when ``validate-config`` accepts the fixture config with this function timeout."""
    for name in ("global.json", "lambda.json"):
        document = json.loads((REPO / "tests" / "fixtures" / "config" / "valid" / name).read_text())
        if name == "lambda.json":
            document["athena_partition_refresh_config"]["timeout"] = timeout
        (directory / name).write_text(json.dumps(document))
    try:
        load_config(directory)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("timeout", [1, 3, 10, 11, 16, 20, 30, 60, 900])
def test_every_timeout_the_config_accepts_lets_a_run_register(
    shared_catalog: Catalog, timeout: int, tmp_path: Path
) -> None:
    """With the clients a deployment of that timeout gets (``AwsSettings.for_function``): the margin is
    at least one attempt of a call, and receiving leaves half the run and one attempt more to the rest.
    With attempts of 4 s (the old 1 s connect and 3 s read floors) no function of 16 s or less ever
    received: notifications waited until the queue's retention dropped them."""
    assert accepted_timeout(timeout, tmp_path)
    work = stage(
        shared_catalog,
        latency=0.01,
        query_seconds=None,
        messages=1,
        client_settings=AwsSettings.for_function("us-east-1", timeout),
    )

    summary, context = work.run(timeout)

    assert summary["messages_deleted"] == 1
    assert context.get_remaining_time_in_millis() > 0


class SlowGlue(FaultInjector):
    """Glue answering each call after ``call_seconds``; notes when each call started and ended."""

    def __init__(self, clock: VirtualClock, seconds: float) -> None:
        super().__init__(random.Random(0), clock, call_seconds=seconds)
        self.calls: list[tuple[str, float, float]] = []

    def call(self, operation: str, real: Any, params: dict[str, Any]) -> Any:
        started = self.clock.now
        try:
            return super().call(operation, real, params)
        finally:
            self.calls.append((operation, started, self.clock.now))


def slow_glue_refresher(
    catalog: Catalog, sqs: FakeSqs, *, seconds: float
) -> tuple[SlowGlue, PartitionRefresher]:
    """A refresher on ``sqs`` whose Glue answers each call after ``seconds`` (the longest attempt its
    client allows), the other services at once."""
    glue = SlowGlue(sqs.clock, seconds=seconds)
    fast = FaultInjector(random.Random(0), sqs.clock, call_seconds=0.001)
    refresher = build_refresher(
        fast.wrap(sqs, FakeSqs.OPERATIONS),
        glue.wrap(catalog.glue),
        fast.wrap(catalog.athena),
        catalog.new_database(f"deadline_{next(_databases)}"),
        sqs.clock,
        attempt_seconds=seconds,
    )
    return glue, refresher


def test_a_slow_glue_never_takes_the_run_past_its_timeout(shared_catalog: Catalog) -> None:
    """1,000 new partitions are ten BatchCreatePartition calls of 3 s each: a 20 s run has time for a
    few. Each call starts only with time to end; the rest stays on the queue for the next run."""
    clock = VirtualClock()
    sqs = FakeSqs(clock, QUEUE)
    for n in range(1000):
        month, day, hour = 1 + n // 672 % 12, 1 + n // 24 % 28, n % 24
        sqs.send(s3_body(("acme.streamalerts", f"alerts/dt=2024-{month:02d}-{day:02d}-{hour:02d}/{n}.json")))
    glue, refresher = slow_glue_refresher(shared_catalog, sqs, seconds=3.0)
    context = ClockContext(clock, 20)

    summary = refresher.run_scheduled(Deadline.from_context(context))

    assert context.get_remaining_time_in_millis() > 0
    assert all(ended <= context.ends_at for _operation, _started, ended in glue.calls), glue.calls
    writes = [call for call in glue.calls if call[0] == "BatchCreatePartition"]
    assert 0 < len(writes) < 10, (summary, glue.calls[:5])
    assert 0 < summary["messages_deleted"] < 1000
    assert summary["messages_deleted"] == sum(1 for _ in sqs.deleted_at)


def test_table_reads_start_only_with_time_for_them(shared_catalog: Catalog) -> None:
    """Planning reads each table's metadata (GetTable) once a run: six tables at 2 s a read do not fit in
    what a 12 s run leaves after receiving. A read the run has no time for keeps that table's messages."""
    clock = VirtualClock()
    sqs = FakeSqs(clock, QUEUE)
    for n, layout in enumerate(LAYOUTS):
        sqs.send(s3_body((layout.bucket, layout.key("us-east-1", 1, 5, f"o{n}"))))
    glue, refresher = slow_glue_refresher(shared_catalog, sqs, seconds=2.0)
    context = ClockContext(clock, 12)

    summary = refresher.run_scheduled(Deadline.from_context(context))

    assert context.get_remaining_time_in_millis() > 0
    assert all(ended <= context.ends_at for _operation, _started, ended in glue.calls), glue.calls
    reads = [call for call in glue.calls if call[0] == "GetTable"]
    assert 0 < len(reads) < len(LAYOUTS), glue.calls
    assert summary["messages_kept"] >= len(LAYOUTS) - len(reads)
