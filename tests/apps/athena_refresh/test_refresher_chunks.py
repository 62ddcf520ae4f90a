"""The scheduled drain in chunks, on moto: a partition is written once a run whatever chunks announce it,
a chunk holds at most its size in memory, a failing catalog stops the run, the settings are checked."""

from __future__ import annotations

import gc

import pytest
from botocore.exceptions import ClientError

from apps.athena_refresh.refresher import MAX_CONCURRENCY, PartitionRefresher, RefreshSettings, SettingsError
from streamalert import logger
from streamalert.constants import SQS_MAX_IN_FLIGHT
from streamalert.deadline import Deadline
from streamalert.sqs import QueueMessage
from tests.apps.athena_refresh.conftest import make_config
from tests.helpers import FakeContext, FaultyClient, s3_body


def run(refresher: PartitionRefresher) -> dict[str, object]:
    return refresher.run_scheduled(Deadline.from_context(FakeContext(60_000)))


def chunked(chunk_messages: int, concurrency: int = 4, **options: int) -> RefreshSettings:
    return RefreshSettings(
        receive_wait_seconds=0, chunk_messages=chunk_messages, concurrency=concurrency, **options
    )


def alerts(count: int, hours: int = 1) -> list[str]:
    return [
        s3_body(("acme.streamalerts", f"alerts/dt=2024-01-01-{n % hours:02d}/{n}.json")) for n in range(count)
    ]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_partition_announced_by_several_chunks_is_written_once(deployment, make_refresher, concurrency):
    deployment.send(*alerts(45))  # one partition, five chunks

    summary = run(make_refresher(settings=chunked(10, concurrency)))

    assert summary["messages_deleted"] == 45
    assert summary["partitions_added"] == {"alerts": 1}
    assert deployment.calls["BatchCreatePartition"] == 1, "the later chunks find it committed this run"
    assert deployment.calls["GetTable"] == 1, "once a table a run, whatever its chunks"
    assert deployment.calls["DeleteMessageBatch"] == 5
    assert deployment.messages_left() == 0


def test_each_chunk_writes_only_the_partitions_it_brings_new(deployment, make_refresher):
    # chunk 1: hours 0-1; chunk 2: hours 1-2 (1 already written)
    deployment.send(
        *(s3_body(("acme-data", f"vpcflow/dt=2024-01-01-{n // 10:02d}/{n}.log")) for n in range(10)),
        *(s3_body(("acme-data", f"vpcflow/dt=2024-01-01-{1 + n // 10:02d}/x{n}.log")) for n in range(20)),
    )

    summary = run(make_refresher(settings=chunked(10, concurrency=1)))

    added = [q for q in deployment.queries() if "ADD IF NOT EXISTS" in q]
    assert summary["messages_deleted"] == 30
    assert summary["partitions_added"] == {"vpcflow": 3}
    assert sum(q.count("\nPARTITION (") for q in added) == 3, "no partition is added twice in a run"


def test_a_repaired_table_is_repaired_once_a_chunk_with_new_partitions(deployment, make_refresher):
    deployment.send(*(s3_body(("acme-legacy", f"x/dt=2024-01-01-05/{n}.json")) for n in range(25)))

    summary = run(make_refresher(settings=chunked(10, concurrency=1)))

    repairs = [q for q in deployment.queries() if q.startswith("MSCK REPAIR TABLE")]
    assert summary["messages_deleted"] == 25
    assert len(repairs) == 1, "the partition of the later chunks was repaired by the first"


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_run_holds_at_most_a_chunk_of_messages(deployment, make_refresher, concurrency):
    """Counted at every receive: the messages alive then are the chunk being received, no earlier one."""
    deployment.send(*alerts(120, hours=3))
    alive: list[int] = []

    def receive(real, **kwargs):
        alive.append(sum(1 for obj in gc.get_objects() if type(obj) is QueueMessage))
        return real(**kwargs)

    sqs = FaultyClient(deployment.sqs, receive_message=receive)
    summary = run(make_refresher(sqs=sqs, settings=chunked(20, concurrency)))

    assert summary["messages_deleted"] == 120
    assert len(alive) >= 12
    assert max(alive) <= 20, alive


@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_cap_stops_the_run_between_chunks(deployment, make_refresher, concurrency):
    deployment.send(*alerts(50))

    summary = run(make_refresher(settings=chunked(10, concurrency, max_messages=35)))

    assert summary["messages_received"] == summary["messages_deleted"] == 35
    assert deployment.calls["DeleteMessageBatch"] == 4
    assert deployment.messages_left() == 15


def test_a_failing_catalog_stops_the_run_after_one_chunk(deployment, make_refresher, capsys):
    logger.configure("info")
    deployment.send(*alerts(50))

    def refuse(real, **kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchCreatePartition"
        )

    glue = FaultyClient(deployment.glue, batch_create_partition=refuse)
    summary = run(make_refresher(glue=glue, settings=chunked(10, concurrency=4)))

    assert summary["messages_received"] == 10, "the next chunks would meet the same catalog"
    assert summary["messages_deleted"] == 0
    assert deployment.calls["DeleteMessageBatch"] == 0
    assert deployment.messages_left() == 50
    assert "No message of the chunk could be handled: the run stops" in capsys.readouterr().err


def test_a_chunk_with_some_messages_handled_lets_the_run_go_on(deployment, make_refresher):
    # every chunk holds one message of an unmapped bucket, which stays
    bodies = alerts(27)
    for index in (0, 10, 20):
        bodies[index] = s3_body(("acme-unmapped", f"x/dt=2024-01-01-01/{index}.json"))
    deployment.send(*bodies)

    summary = run(make_refresher(settings=chunked(10, concurrency=1)))

    assert summary["messages_received"] == 27
    assert summary["messages_kept"] == 3


def test_a_chunk_is_received_only_with_time_to_commit_and_delete_it(deployment, make_refresher):
    """Each clock read costs 1 s: the first chunk's receiving leaves half the run to the rest, the next
    ones what the first took; the run stops receiving with that time still ahead of it."""
    deployment.send(*alerts(200))
    context = FakeContext(60_000, tick_ms=1_000)
    refresher = make_refresher(settings=chunked(10, concurrency=1))

    summary = refresher.run_scheduled(Deadline.from_context(context))

    assert 0 < summary["messages_deleted"] == summary["messages_received"] < 200
    assert context.remaining_ms > 0


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"max_messages": SQS_MAX_IN_FLIGHT}, "in flight"),
        ({"max_messages": 0}, "message cap"),
        ({"chunk_messages": 0}, "chunk size"),
        ({"concurrency": 0}, "calls in flight"),
        ({"concurrency": MAX_CONCURRENCY + 1}, "calls in flight"),
        ({"receive_share": 1.0}, "receive share"),
    ],
)
def test_settings_out_of_range_are_refused_with_their_range(options, problem):
    with pytest.raises(SettingsError, match=problem):
        RefreshSettings(**options)


def test_the_defaults_stay_under_the_in_flight_limit_and_fit_a_chunk_in_a_run():
    defaults = RefreshSettings()

    assert defaults.max_messages < SQS_MAX_IN_FLIGHT
    assert defaults.chunk_messages <= defaults.max_messages
    assert 1 < defaults.concurrency <= MAX_CONCURRENCY


def test_a_deployments_clients_keep_a_connection_for_each_call_in_flight(moto):
    refresher = PartitionRefresher.from_config(make_config(), RefreshSettings(concurrency=24))

    assert refresher._sqs_client.meta.config.max_pool_connections == 24
