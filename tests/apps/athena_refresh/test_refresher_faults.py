"""The refresh under pressure: little time, a full queue, failing AWS calls. Nothing is lost."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from apps.athena_refresh.refresher import RefreshSettings
from streamalert.aws import AwsSettings
from streamalert.constants import ATHENA_MAX_QUERY_BYTES
from streamalert.deadline import Deadline
from streamalert.sqs import QueueMessage
from tests.apps.athena_refresh.conftest import DATABASE
from tests.helpers import REGION, FakeContext, FaultyClient, s3_body


def run(refresher, remaining_ms: float = 60_000, tick_ms: float = 0):
    return refresher.run_scheduled(Deadline.from_context(FakeContext(remaining_ms, tick_ms)))


def alerts(count: int, hour: int = 5) -> list[str]:
    return [s3_body(("acme.streamalerts", f"alerts/dt=2024-01-01-{hour:02d}/{n}.json")) for n in range(count)]


def test_too_little_time_left_returns_normally_and_touches_nothing(deployment, make_refresher):
    deployment.send(*alerts(3))

    summary = run(make_refresher(), remaining_ms=400)  # under the half second a run needs at least

    assert summary["messages_received"] == 0
    assert deployment.calls["ReceiveMessage"] == 0
    assert deployment.messages_left() == 3


def test_receiving_stops_when_its_share_of_the_time_is_spent(deployment, make_refresher):
    deployment.send(*alerts(50))

    # 60 s budget, each clock read costs 4 s: receiving must stop well before the end of the run. The
    # clock's time passes with each read, one after the other: calls in flight at once would each be
    # charged in full, so the drain makes one call at a time here
    context = FakeContext(60_000, tick_ms=4_000)
    refresher = make_refresher(settings=RefreshSettings(receive_wait_seconds=0, concurrency=1))
    summary = refresher.run_scheduled(Deadline.from_context(context))

    assert 0 < summary["messages_received"] < 50
    assert summary["messages_deleted"] <= summary["messages_received"]
    assert deployment.messages_left() == 50 - summary["messages_deleted"]
    assert context.remaining_ms > 0, "the run ended before the function's timeout"


def test_receive_visibility_covers_the_rest_of_the_run(deployment, make_refresher):
    deployment.send(*alerts(1))
    seen: list[int] = []

    def receive(real, **kwargs):
        seen.append(kwargs["VisibilityTimeout"])
        return real(**kwargs)

    run(make_refresher(sqs=FaultyClient(deployment.sqs, receive_message=receive)), remaining_ms=300_000)

    assert seen
    assert seen[0] >= 300


@pytest.mark.parametrize("concurrency", [1, 4])
def test_message_cap_stops_the_drain_exactly(deployment, make_refresher, concurrency):
    deployment.send(*alerts(40))
    asked: list[int] = []

    def receive(real, **kwargs):
        asked.append(kwargs["MaxNumberOfMessages"])
        return real(**kwargs)

    settings = RefreshSettings(receive_wait_seconds=0, max_messages=25, concurrency=concurrency)
    sqs = FaultyClient(deployment.sqs, receive_message=receive)
    summary = run(make_refresher(sqs=sqs, settings=settings))

    assert summary["messages_received"] == summary["messages_deleted"] == 25
    assert sum(asked) == 25, "the last receive asks for what is left under the cap, no more"
    assert deployment.messages_left() == 15


def test_failed_athena_query_keeps_its_messages_and_not_the_others(deployment, make_refresher):
    def failed(real, **kwargs):
        response = real(**kwargs)
        response["QueryExecution"]["Status"] = {"State": "FAILED", "StateChangeReason": "boom"}
        return response

    athena = FaultyClient(deployment.athena, get_query_execution=failed)
    deployment.send(
        s3_body(("acme-data", "vpcflow/dt=2024-02-01-02/v.gz")),
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")),
    )

    summary = run(make_refresher(athena=athena))

    assert summary["messages_kept"] == 1
    assert summary["partitions_added"] == {"alerts": 1}
    assert deployment.messages_left() == 1


def test_query_still_running_at_the_deadline_is_stopped_and_kept(deployment, make_refresher):
    def running(real, **kwargs):
        response = real(**kwargs)
        response["QueryExecution"]["Status"] = {"State": "RUNNING"}
        return response

    athena = FaultyClient(deployment.athena, get_query_execution=running)
    deployment.send(s3_body(("acme-legacy", "x/dt=2024-01-01-01/f.json")))

    summary = run(make_refresher(athena=athena), remaining_ms=30_000, tick_ms=500)

    assert deployment.calls["StopQueryExecution"] == 1
    assert summary["messages_kept"] == 1
    assert summary["tables_repaired"] == []


def test_glue_error_entry_keeps_only_the_messages_of_that_partition(deployment, make_refresher):
    def refuse_hour_six(real, **kwargs):
        refused = [p for p in kwargs["PartitionInputList"] if p["Values"] == ["2024-01-01-06"]]
        kwargs["PartitionInputList"] = [p for p in kwargs["PartitionInputList"] if p not in refused]
        response = real(**kwargs) if kwargs["PartitionInputList"] else {"Errors": []}
        response.setdefault("Errors", []).extend(
            {"PartitionValues": p["Values"], "ErrorDetail": {"ErrorCode": "InternalServiceException"}}
            for p in refused
        )
        return response

    glue = FaultyClient(deployment.glue, batch_create_partition=refuse_hour_six)
    deployment.send(*alerts(2, hour=5), *alerts(1, hour=6))

    summary = run(make_refresher(glue=glue))

    assert summary["messages_deleted"] == 2
    assert summary["messages_kept"] == 1
    assert list(deployment.partitions("alerts")) == [("2024-01-01-05",)]


def test_partial_delete_failure_resends_only_the_failed_entry(deployment, make_refresher):
    attempts: list[list[str]] = []

    def flaky_delete(real, **kwargs):
        attempts.append([entry["Id"] for entry in kwargs["Entries"]])
        if len(attempts) == 1:
            first, *rest = kwargs["Entries"]
            response = real(QueueUrl=kwargs["QueueUrl"], Entries=rest)
            response["Failed"] = [{"Id": first["Id"], "SenderFault": False, "Code": "InternalError"}]
            return response
        return real(**kwargs)

    deployment.send(*alerts(3))

    summary = run(make_refresher(sqs=FaultyClient(deployment.sqs, delete_message_batch=flaky_delete)))

    assert len(attempts) == 2
    assert len(attempts[0]) == 3
    assert attempts[1] == attempts[0][:1]
    assert summary["messages_deleted"] == 3
    assert deployment.messages_left() == 0


def test_statements_are_split_under_athena_query_limit(deployment, make_refresher):
    # One event-source message announcing 4,000 hive partitions of one table
    records = [("acme-data", f"vpcflow/dt=2024-01-01-00/part={n:05d}/f.gz") for n in range(4000)]
    deployment.glue.update_table(
        DatabaseName="streamalert",
        TableInput={
            "Name": "vpcflow",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "part", "Type": "string"}],
            "StorageDescriptor": {"Columns": [], "Location": "s3://acme-data/vpcflow/"},
        },
    )
    message = QueueMessage("m-1", "r-1", s3_body(*records))

    result = make_refresher().run_event_source([message], Deadline.from_context(FakeContext()))

    queries = deployment.queries()
    assert result == {"batchItemFailures": []}
    assert len(queries) > 1
    assert all(len(query.encode()) <= ATHENA_MAX_QUERY_BYTES for query in queries)
    assert sum(query.count("\nPARTITION (") for query in queries) == 4000


def test_summary_is_json_serialisable(deployment, make_refresher):
    deployment.send(*alerts(2), s3_body(("acme-legacy", "x/y.json")))

    summary = run(make_refresher())

    assert json.loads(json.dumps(summary)) == summary


def test_run_writes_its_metrics(deployment, make_refresher, capsys):
    deployment.send(*alerts(2), "not json")

    run(make_refresher())

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(lines) == 1
    metric = lines[0]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "StreamAlert/AthenaPartitionRefresh"
    assert (metric["MessagesReceived"], metric["MessagesDeleted"], metric["MessagesKept"]) == (3, 2, 1)
    assert (metric["PartitionsAdded"], metric["Failures"]) == (1, 1)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_receive_error_mid_drain_commits_what_was_received(deployment, make_refresher, concurrency):
    """One call after another: the second fails, the first's 10 are committed. With calls in flight, a
    call already made when the second failed still brings its messages, and they are committed too."""
    calls = []

    def failing_second_receive(real, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "ReceiveMessage")
        return real(**kwargs)

    deployment.send(*alerts(15))

    settings = RefreshSettings(receive_wait_seconds=0, concurrency=concurrency)
    sqs = FaultyClient(deployment.sqs, receive_message=failing_second_receive)
    summary = run(make_refresher(sqs=sqs, settings=settings))

    assert summary["messages_received"] == (10 if concurrency == 1 else summary["messages_received"])
    assert summary["messages_received"] in (10, 15)
    assert summary["messages_deleted"] == summary["messages_received"]
    assert deployment.messages_left() == 15 - summary["messages_received"]


def test_delete_error_keeps_the_messages_for_the_next_run(deployment, make_refresher):
    def failing_delete(real, **kwargs):
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DeleteMessageBatch"
        )

    deployment.send(*alerts(2))

    summary = run(make_refresher(sqs=FaultyClient(deployment.sqs, delete_message_batch=failing_delete)))

    assert summary["messages_deleted"] == 0
    assert summary["messages_kept"] == 2
    assert summary["partitions_added"] == {"alerts": 1}
    assert deployment.messages_left() == 2


def glue_partition(deployment, table: str, values: list[str], location: str) -> None:
    descriptor = deployment.glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]["StorageDescriptor"]
    deployment.glue.create_partition(
        DatabaseName=DATABASE,
        TableName=table,
        PartitionInput={"Values": values, "StorageDescriptor": {**descriptor, "Location": location}},
    )


def unprocessed(times: int):
    """A batch_get_partition that leaves every key unprocessed ``times`` times, then answers."""
    calls = []

    def get(real, **kwargs):
        calls.append(kwargs)
        if len(calls) <= times:
            return {"Partitions": [], "UnprocessedKeys": kwargs["PartitionsToGet"]}
        return real(**kwargs)

    return get, calls


def test_a_partition_glue_leaves_unprocessed_is_asked_again(deployment, make_refresher):
    glue_partition(deployment, "alerts", ["2024-01-01-05"], "s3://acme.streamalerts/alerts/dt=2024-01-01-05/")
    deployment.send(*alerts(1))
    get, calls = unprocessed(1)

    summary = run(make_refresher(glue=FaultyClient(deployment.glue, batch_get_partition=get)))

    assert len(calls) == 2
    assert summary["messages_deleted"] == 1


def test_a_partition_glue_never_reads_back_keeps_its_messages(deployment, make_refresher):
    # registered elsewhere: were the unprocessed key taken for "absent", the message would be deleted
    glue_partition(
        deployment, "alerts", ["2024-01-01-05"], "s3://acme.streamalerts/alerts/old/dt=2024-01-01-05/"
    )
    deployment.send(*alerts(3))
    get, calls = unprocessed(100)

    summary = run(make_refresher(glue=FaultyClient(deployment.glue, batch_get_partition=get)))

    assert 1 < len(calls) <= 3, "asked again, a bounded number of times"
    assert summary["messages_kept"] == 3
    assert deployment.messages_left() == 3


def test_athena_refusing_one_partition_keeps_only_its_messages(deployment, make_refresher):
    bad = "2024-01-01-13"

    def get(real, **kwargs):
        response = real(**kwargs)
        execution = response["QueryExecution"]
        if bad in execution["Query"]:
            execution["Status"] = {"State": "FAILED", "StateChangeReason": "HIVE_METASTORE_ERROR"}
        return response

    deployment.send(
        *(s3_body(("acme-data", f"vpcflow/dt=2024-01-01-{hour:02d}/a.json")) for hour in range(8, 16))
    )

    summary = run(make_refresher(athena=FaultyClient(deployment.athena, get_query_execution=get)))

    assert (summary["messages_deleted"], summary["messages_kept"]) == (7, 1)
    assert summary["partitions_added"] == {"vpcflow": 7}
    assert [q for q in deployment.queries() if bad in q][-1].count("\nPARTITION (") == 1, (
        "split down to it alone"
    )
    assert deployment.messages_left() == 1


def test_a_delete_call_failing_midway_counts_what_earlier_calls_deleted(deployment, make_refresher):
    """One call after another: the failing second call stops the deletes (its 10 and the last 5 stay)."""
    deployment.send(*alerts(25))
    calls = []

    def delete(real, **kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "DeleteMessageBatch")
        return real(**kwargs)

    settings = RefreshSettings(receive_wait_seconds=0, concurrency=1)
    summary = run(
        make_refresher(sqs=FaultyClient(deployment.sqs, delete_message_batch=delete), settings=settings)
    )

    assert summary["messages_deleted"] == 10
    assert summary["messages_kept"] == 15
    assert deployment.messages_left() == 15


def test_with_calls_in_flight_a_failing_delete_keeps_only_its_own_batch(deployment, make_refresher):
    deployment.send(*alerts(25))
    calls = []

    def delete(real, **kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "DeleteMessageBatch")
        return real(**kwargs)

    settings = RefreshSettings(receive_wait_seconds=0, concurrency=3)
    summary = run(
        make_refresher(sqs=FaultyClient(deployment.sqs, delete_message_batch=delete), settings=settings)
    )

    failed = len(calls[1]["Entries"])
    assert len(calls) == 3, "three batches, one call each: the failing one is not sent again"
    assert summary["messages_kept"] == failed
    assert summary["messages_deleted"] == 25 - failed
    assert deployment.messages_left() == failed


def test_a_failed_resend_of_deletes_counts_what_the_first_call_deleted(deployment, make_refresher):
    deployment.send(*alerts(12))
    calls = []

    def delete(real, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:  # SQS deletes nine of the first ten, one entry fails
            response = real(**{**kwargs, "Entries": kwargs["Entries"][1:]})
            failed = {"Id": kwargs["Entries"][0]["Id"], "SenderFault": False, "Code": "InternalError"}
            return {**response, "Failed": [failed]}
        if len(calls) == 2:  # its re-send fails outright
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "DeleteMessageBatch")
        return real(**kwargs)

    settings = RefreshSettings(receive_wait_seconds=0, concurrency=1)  # the calls in this order
    summary = run(
        make_refresher(sqs=FaultyClient(deployment.sqs, delete_message_batch=delete), settings=settings)
    )

    assert (summary["messages_deleted"], summary["messages_kept"]) == (11, 1)
    assert deployment.messages_left() == 1


@pytest.mark.parametrize(("timeout", "longest"), [(10, 0), (20, 1), (60, 2)])
def test_a_receive_waits_no_longer_than_its_clients_read_timeout_allows(
    deployment, make_refresher, timeout, longest
):
    """A function of 10 s reads each answer for 1 s: a 2 s long poll would time out on every receive."""
    deployment.send(*alerts(1))
    waits = []

    def receive(real, **kwargs):
        waits.append(kwargs["WaitTimeSeconds"])
        return real(**{**kwargs, "WaitTimeSeconds": 0})  # moto would really wait

    refresher = make_refresher(
        sqs=FaultyClient(deployment.sqs, receive_message=receive),
        settings=RefreshSettings(receive_wait_seconds=2),
        client_settings=AwsSettings.for_function(REGION, timeout),
    )
    summary = run(refresher, remaining_ms=timeout * 1000)

    assert summary["messages_deleted"] == 1
    assert max(waits) == longest
