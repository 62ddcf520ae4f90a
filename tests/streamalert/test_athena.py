"""Athena: DDL text, its split under the query size limit, and queries run and polled within a deadline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.athena.models import athena_backends

from streamalert.athena import (
    AthenaQueryRunner,
    QueryOutcome,
    UnsafeQueryError,
    add_partition_statements,
    repair_table_statement,
)
from streamalert.constants import ATHENA_MAX_QUERY_BYTES
from streamalert.deadline import Deadline, RunBudget
from streamalert.partitions import Partition
from streamalert_cli.testing.calls import CallCounter
from tests.helpers import ACCOUNT_ID, REGION, FakeContext, FaultyClient

DATABASE = "streamalert"
RESULTS = "s3://acme-streamalert-athena-results/refresh/"

MARGIN = 2.0  # the run's margin: no query starts, and no poll waits, past it


def dt_partition(dt: str, prefix: str = "alerts") -> Partition:
    return Partition(("dt",), (dt,), f"s3://acme.streamalerts/{prefix}/dt={dt}/")


# --- statements ------------------------------------------------------------------------------------


def test_repair_table_statement() -> None:
    assert (
        repair_table_statement("streamalert", "cloudtrail") == "MSCK REPAIR TABLE `streamalert`.`cloudtrail`"
    )


def test_add_one_partition() -> None:
    statements = add_partition_statements(DATABASE, "alerts", [dt_partition("2024-01-01-05")])

    assert statements == [
        (
            "ALTER TABLE `streamalert`.`alerts` ADD IF NOT EXISTS\n"
            "PARTITION (`dt` = '2024-01-01-05') LOCATION 's3://acme.streamalerts/alerts/dt=2024-01-01-05/'",
            (dt_partition("2024-01-01-05"),),
        )
    ]


def test_add_two_partitions_with_two_columns_in_one_statement() -> None:
    first = Partition(
        ("region", "dt"), ("us-east-1", "2024-01-01-05"), "s3://w/region=us-east-1/dt=2024-01-01-05/"
    )
    second = Partition(
        ("region", "dt"), ("eu-west-1", "2024-01-01-06"), "s3://w/region=eu-west-1/dt=2024-01-01-06/"
    )

    statements = add_partition_statements(DATABASE, "waf", [first, second])

    assert statements == [
        (
            "ALTER TABLE `streamalert`.`waf` ADD IF NOT EXISTS\n"
            "PARTITION (`region` = 'us-east-1', `dt` = '2024-01-01-05') "
            "LOCATION 's3://w/region=us-east-1/dt=2024-01-01-05/'\n"
            "PARTITION (`region` = 'eu-west-1', `dt` = '2024-01-01-06') "
            "LOCATION 's3://w/region=eu-west-1/dt=2024-01-01-06/'",
            (first, second),
        )
    ]


def test_no_partitions_no_statements() -> None:
    assert add_partition_statements(DATABASE, "alerts", []) == []


def _check_split(
    statements: list[tuple[str, tuple[Partition, ...]]], partitions: list[Partition], limit: int
) -> None:
    assert all(len(text.encode("utf-8")) <= limit for text, _ in statements)
    carried = [partition for _, members in statements for partition in members]
    assert carried == partitions  # each one exactly once, in order
    for text, members in statements:
        assert text.count("\nPARTITION (") == len(members)
        assert all(f"LOCATION '{p.location}'" in text for p in members)


def test_many_partitions_are_split_under_the_athena_limit() -> None:
    partitions = [
        dt_partition(f"2024-01-{day:02d}-{hour:02d}", "x" * 200) for day in range(1, 29) for hour in range(24)
    ]
    partitions *= 2  # ~1,300 partitions of ~300 bytes: several statements

    statements = add_partition_statements(DATABASE, "alerts", partitions)

    assert len(statements) >= 2
    _check_split(statements, partitions, ATHENA_MAX_QUERY_BYTES)
    # a statement is only closed when the next clause would not fit
    sizes = [len(text.encode()) for text, _ in statements]
    assert all(size > ATHENA_MAX_QUERY_BYTES - 400 for size in sizes[:-1])


def test_multibyte_locations_are_counted_in_bytes() -> None:
    partitions = [
        Partition(("dt",), (f"2024-01-01-{hour:02d}",), f"s3://b/{'é' * 100}/dt=2024-01-01-{hour:02d}/")
        for hour in range(2)
    ]
    ((together, _),) = add_partition_statements(DATABASE, "alerts", partitions)
    limit = len(together)  # both fit when counting characters, not when counting bytes

    statements = add_partition_statements(DATABASE, "alerts", partitions, max_bytes=limit)

    assert [members for _, members in statements] == [(partitions[0],), (partitions[1],)]
    _check_split(statements, partitions, limit)


def test_many_multibyte_locations_stay_under_the_athena_limit() -> None:
    partitions = [
        Partition(("dt",), ("2024-01-01-00",), f"s3://b/{'données' * 40}/{index}/dt=2024-01-01-00/")
        for index in range(800)
    ]

    statements = add_partition_statements(DATABASE, "alerts", partitions)

    assert len(statements) >= 2
    _check_split(statements, partitions, ATHENA_MAX_QUERY_BYTES)


@pytest.mark.parametrize("max_bytes", [300, 500, 1_000])
def test_custom_small_limit(max_bytes: int) -> None:
    partitions = [dt_partition(f"2024-01-01-{hour:02d}") for hour in range(24)]

    statements = add_partition_statements(DATABASE, "alerts", partitions, max_bytes=max_bytes)

    _check_split(statements, partitions, max_bytes)


def test_limit_is_inclusive() -> None:
    partition = dt_partition("2024-01-01-05")
    ((text, _),) = add_partition_statements(DATABASE, "alerts", [partition])
    exact = len(text.encode())

    assert add_partition_statements(DATABASE, "alerts", [partition], max_bytes=exact) == [
        (text, (partition,))
    ]
    with pytest.raises(UnsafeQueryError, match=f"over {exact - 1} bytes: s3://acme.streamalerts/alerts/"):
        add_partition_statements(DATABASE, "alerts", [partition], max_bytes=exact - 1)


def test_single_partition_too_big_is_refused() -> None:
    huge = Partition(("dt",), ("2024",), f"s3://b/{'x' * ATHENA_MAX_QUERY_BYTES}/dt=2024/")

    with pytest.raises(UnsafeQueryError, match="one partition makes a statement over 262144 bytes"):
        add_partition_statements(DATABASE, "alerts", [dt_partition("2024-01-01-05"), huge])


@pytest.mark.parametrize(
    ("database", "table"),
    [
        ("stream-alert", "alerts"),
        ("streamalert", "al`erts"),
        ("streamalert", "1alerts"),
        ("", "alerts"),
        ("streamalert", "alerts; DROP TABLE x"),
        ("streamalert", "alerts\n"),
    ],
)
def test_bad_identifiers_are_refused(database: str, table: str) -> None:
    with pytest.raises(UnsafeQueryError, match="not a plain identifier"):
        repair_table_statement(database, table)
    with pytest.raises(UnsafeQueryError, match="not a plain identifier"):
        add_partition_statements(database, table, [dt_partition("2024-01-01-05")])


def test_bad_column_is_refused() -> None:
    partition = Partition(("d`t",), ("2024",), "s3://b/a/")

    with pytest.raises(UnsafeQueryError, match="not a plain identifier"):
        add_partition_statements(DATABASE, "alerts", [partition])


@pytest.mark.parametrize(
    "partition",
    [
        Partition(("dt",), ("2024') LOCATION 's3://evil/",), "s3://b/a/"),
        Partition(("dt",), ("2024\\",), "s3://b/a/"),
        Partition(("dt",), ("2024\n",), "s3://b/a/"),
        Partition(("dt",), ("2024",), "s3://b/it's/"),
        Partition(("dt",), ("2024",), "s3://b/a\\/"),
        Partition(("dt",), ("2024",), "s3://b/a\x00/"),
    ],
    ids=[
        "value-quote",
        "value-backslash",
        "value-newline",
        "location-quote",
        "location-backslash",
        "location-nul",
    ],
)
def test_bad_literals_are_refused(partition: Partition) -> None:
    with pytest.raises(UnsafeQueryError, match="quote, backslash or control character"):
        add_partition_statements(DATABASE, "alerts", [partition])


# --- the runner, on moto ---------------------------------------------------------------------------


@pytest.fixture
def athena(moto: None) -> Any:
    return boto3.client("athena", region_name=REGION)


def executions() -> list[Any]:
    """What moto recorded of each query started, in order."""
    return list(athena_backends[ACCOUNT_ID][REGION].executions.values())


def runner(client: Any, **options: Any) -> AthenaQueryRunner:
    options.setdefault("sleep", lambda _: None)
    return AthenaQueryRunner(client, DATABASE, RESULTS, **options)


def with_states(states: dict[str, tuple[str, str]]) -> Callable[..., Any]:
    """A get_query_execution whose answer for some queries (by text) is replaced by (state, reason)."""

    def get(real: Callable[..., Any], **kwargs: Any) -> Any:
        response = real(**kwargs)
        execution = response["QueryExecution"]
        if execution["Query"] in states:
            state, reason = states[execution["Query"]]
            execution["Status"] = {"State": state, "StateChangeReason": reason}
        return response

    return get


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


QUERIES = [repair_table_statement(DATABASE, name) for name in ("alerts", "cloudtrail", "vpcflow")]


def test_queries_run_in_the_database_with_the_results_location(athena: Any) -> None:
    outcomes = runner(athena).run(QUERIES, RunBudget(Deadline.from_context(FakeContext()), MARGIN))

    assert outcomes == [QueryOutcome(query, True, "SUCCEEDED") for query in QUERIES]
    assert [execution.query for execution in executions()] == QUERIES
    for execution in executions():
        assert execution.context == {"Database": DATABASE}
        assert execution.config["OutputLocation"].startswith(RESULTS)


def test_queries_run_in_the_given_workgroup(athena: Any) -> None:
    athena.create_work_group(Name="acme_streamalert", Tags=[{"Key": "app", "Value": "streamalert"}])
    custom = AthenaQueryRunner(athena, DATABASE, RESULTS, workgroup="acme_streamalert", sleep=lambda _: None)

    custom.run(QUERIES[:1], RunBudget(Deadline.from_context(FakeContext()), MARGIN))

    assert executions()[0].workgroup.name == "acme_streamalert"


def test_no_queries_no_calls(athena: Any) -> None:
    calls = CallCounter().attach(athena)

    assert runner(athena).run([], RunBudget(Deadline.from_context(FakeContext()), MARGIN)) == []
    assert sum(calls.calls.values()) == 0


def test_each_poll_reads_only_the_queries_still_running(athena: Any) -> None:
    polls = iter(range(100))
    slow = QUERIES[2]

    def get(real: Callable[..., Any], **kwargs: Any) -> Any:
        response = real(**kwargs)
        if response["QueryExecution"]["Query"] == slow and next(polls) < 2:
            response["QueryExecution"]["Status"] = {"State": "RUNNING"}
        return response

    calls = CallCounter().attach(athena)
    sleeps: list[float] = []

    outcomes = runner(FaultyClient(athena, get_query_execution=get), sleep=sleeps.append).run(
        QUERIES, RunBudget(Deadline.from_context(FakeContext()), MARGIN)
    )

    assert all(outcome.succeeded for outcome in outcomes)
    assert len(sleeps) == 3
    assert calls["StartQueryExecution"] == 3
    assert calls["GetQueryExecution"] == 3 + 1 + 1  # the finished ones are not read again
    assert calls["StopQueryExecution"] == 0


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_failed_or_cancelled_query_fails_with_the_reason(athena: Any, state: str) -> None:
    reason = "FAILED: SemanticException table not found"
    client = FaultyClient(athena, get_query_execution=with_states({QUERIES[1]: (state, reason)}))

    outcomes = runner(client).run(QUERIES, RunBudget(Deadline.from_context(FakeContext()), MARGIN))

    assert [outcome.succeeded for outcome in outcomes] == [True, False, True]
    # only a query Athena ran and failed is refused: a cancelled one may pass when sent again
    assert outcomes[1] == QueryOutcome(QUERIES[1], False, f"{state} {reason}", refused=state == "FAILED")


def test_query_that_cannot_start_fails_and_the_others_still_run(athena: Any) -> None:
    def start(real: Callable[..., Any], **kwargs: Any) -> Any:
        if kwargs["QueryString"] == QUERIES[0]:
            raise client_error("InvalidRequestException", "StartQueryExecution")
        return real(**kwargs)

    outcomes = runner(FaultyClient(athena, start_query_execution=start)).run(
        QUERIES, RunBudget(Deadline.from_context(FakeContext()), MARGIN)
    )

    assert not outcomes[0].succeeded
    assert outcomes[0].detail.startswith("could not start:")
    assert "InvalidRequestException" in outcomes[0].detail
    assert [outcome.succeeded for outcome in outcomes[1:]] == [True, True]
    assert [execution.query for execution in executions()] == QUERIES[1:]


def test_an_unreadable_state_is_read_again_at_the_next_poll(athena: Any) -> None:
    failures = iter([True])

    def get(real: Callable[..., Any], **kwargs: Any) -> Any:
        if next(failures, False):
            raise client_error("ThrottlingException", "GetQueryExecution")
        return real(**kwargs)

    outcomes = runner(FaultyClient(athena, get_query_execution=get)).run(
        QUERIES, RunBudget(Deadline.from_context(FakeContext()), MARGIN)
    )

    assert all(outcome.succeeded for outcome in outcomes)


def test_query_still_running_at_the_deadline_is_stopped_and_fails(athena: Any) -> None:
    context = FakeContext(remaining_ms=10_000)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the clock moves only while the runner sleeps
        sleeps.append(seconds)
        context.remaining_ms -= seconds * 1000

    client = FaultyClient(athena, get_query_execution=with_states({QUERIES[2]: ("RUNNING", "")}))
    calls = CallCounter().attach(athena)

    outcomes = runner(client, sleep=sleep).run(QUERIES, RunBudget(Deadline.from_context(context), MARGIN))

    assert [outcome.succeeded for outcome in outcomes] == [True, True, False]
    assert outcomes[2].detail == "stopped: still running when the time was up"
    assert calls["StopQueryExecution"] == 1
    assert executions()[2].status == "CANCELLED"
    assert sum(sleeps) == pytest.approx(10.0 - 2.0)  # used its time, kept the safety margin


def test_failure_to_stop_a_query_still_reports_it_failed(athena: Any) -> None:
    def stop(real: Callable[..., Any], **kwargs: Any) -> Any:
        raise client_error("InternalServerException", "StopQueryExecution")

    client = FaultyClient(
        athena, get_query_execution=with_states({QUERIES[0]: ("RUNNING", "")}), stop_query_execution=stop
    )

    outcomes = runner(client, max_polls=2).run(
        QUERIES[:1], RunBudget(Deadline.from_context(FakeContext()), MARGIN)
    )

    assert outcomes == [QueryOutcome(QUERIES[0], False, "stopped: still running when the time was up")]


def test_no_query_is_started_with_less_than_the_margin_left(athena: Any) -> None:
    calls = CallCounter().attach(athena)

    outcomes = runner(athena).run(
        QUERIES, RunBudget(Deadline.from_context(FakeContext(remaining_ms=1_500)), MARGIN)
    )

    assert [outcome.detail for outcome in outcomes] == ["not started: no time left"] * len(QUERIES)
    assert sum(calls.calls.values()) == 0


def test_poll_loop_is_bounded_when_the_deadline_never_moves(athena: Any) -> None:
    client = FaultyClient(athena, get_query_execution=with_states(dict.fromkeys(QUERIES, ("RUNNING", ""))))
    calls = CallCounter().attach(athena)

    outcomes = runner(client, max_polls=7).run(
        QUERIES, RunBudget(Deadline.from_context(FakeContext(tick_ms=0)), MARGIN)
    )

    assert calls["GetQueryExecution"] == 7 * len(QUERIES)
    assert calls["StopQueryExecution"] == len(QUERIES)
    assert not any(outcome.succeeded for outcome in outcomes)


def test_queued_query_is_polled_with_backoff_until_it_finishes(athena: Any) -> None:
    answers = iter(["QUEUED", "RUNNING", "RUNNING", "RUNNING"])

    def get(real: Callable[..., Any], **kwargs: Any) -> Any:
        response = real(**kwargs)
        state = next(answers, None)
        if state:
            response["QueryExecution"]["Status"] = {"State": state}
        return response

    sleeps: list[float] = []
    outcomes = runner(FaultyClient(athena, get_query_execution=get), sleep=sleeps.append).run(
        QUERIES[:1], RunBudget(Deadline.from_context(FakeContext()), MARGIN)
    )

    assert outcomes == [QueryOutcome(QUERIES[0], True, "SUCCEEDED")]
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 2.0]  # doubles up to the cap


@pytest.mark.parametrize("tick_ms", [0, 100, 700])
def test_sleep_never_exceeds_remaining_time_minus_margin(athena: Any, tick_ms: int) -> None:
    context = FakeContext(remaining_ms=8_000, tick_ms=tick_ms)
    margin = 2.0
    observed: list[tuple[float, float]] = []

    def sleep(seconds: float) -> None:
        observed.append((seconds, context.remaining_ms / 1000))
        context.remaining_ms -= seconds * 1000

    client = FaultyClient(athena, get_query_execution=with_states({QUERIES[0]: ("RUNNING", "")}))
    options = {"first_poll_seconds": 1.5, "max_poll_seconds": 3.0}
    runner(client, sleep=sleep, **options).run(QUERIES[:1], RunBudget(Deadline.from_context(context), MARGIN))

    assert len(observed) >= 2
    for seconds, remaining in observed:
        assert 0.0 <= seconds <= max(0.0, remaining - margin) + 1e-9
