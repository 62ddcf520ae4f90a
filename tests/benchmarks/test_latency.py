"""The latency tier's fakes and runs, held to call counts (never seconds): the sleeps are switched off."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest
from botocore.exceptions import ClientError

from benchmarks import latency
from benchmarks.latent_aws import MEDIAN_SECONDS, P99_SECONDS, Latency, LatentGlue, LatentSqs
from streamalert import s3_events
from streamalert.deadline import Deadline, RunBudget
from streamalert.glue import GlueCatalog, TableNotFoundError
from streamalert.partitions import Partition
from streamalert.sqs import SqsQueue
from streamalert_cli.testing.calls import CallCounter


def quiet_latency() -> Latency:
    """The tier's latency, drawn and counted but not slept."""
    return Latency(sleep=lambda _: None)


def test_the_latency_has_the_stated_median_and_99th_percentile_and_repeats() -> None:
    first = quiet_latency()
    samples = [first.draw() for _ in range(20_001)]
    ordered = sorted(samples)

    assert statistics.median(ordered) == pytest.approx(MEDIAN_SECONDS, rel=0.05)
    assert ordered[int(0.99 * len(ordered))] == pytest.approx(P99_SECONDS, rel=0.1)
    assert first.calls == 20_001
    assert first.slept_seconds == pytest.approx(math.fsum(samples))
    again = quiet_latency()
    assert [again.draw() for _ in range(5)] == samples[:5], "the same seed draws the same latencies"


def test_the_queue_delays_every_api_call_and_hands_out_new_body_strings() -> None:
    clock_latency = quiet_latency()
    counter = CallCounter()
    sqs = LatentSqs(clock_latency, "refresh", counter=counter)
    body = '{"Records": []}'
    sqs.send(body)
    queue = SqsQueue.from_name(sqs, "refresh")

    received = queue.receive(wait_seconds=0, visibility_seconds=30)
    assert queue.delete(received) == []

    assert [message.body for message in received] == [body]
    assert received[0].body is not body, "a client parses each body from its answer"
    assert clock_latency.calls == sum(counter.calls.values()) == 3
    with pytest.raises(ValueError, match="does not long-poll"):
        sqs.receive_message(QueueUrl=sqs.url, WaitTimeSeconds=1)


def _partition(hour: int) -> Partition:
    return Partition(
        ("dt",), (f"2024-01-01-{hour:02d}",), f"s3://bench-data/cloudtrail/2024/01/01/{hour:02d}/"
    )


def test_the_catalog_registers_once_and_answers_as_glue() -> None:
    glue = LatentGlue(quiet_latency(), "db")
    glue.add_table("cloudtrail", ("dt",), "s3://bench-data/cloudtrail/")
    catalog = GlueCatalog(glue, "db")  # type: ignore[arg-type]
    budget = RunBudget(Deadline.after(60), margin=0)
    table = catalog.get_table("cloudtrail")
    partitions = [_partition(hour) for hour in range(3)]

    assert catalog.create_partitions(table, partitions, budget) == set()
    assert catalog.create_partitions(table, partitions, budget) == set(), "already there, same folder"

    assert len(glue.partitions) == 3
    assert glue.counter.calls == {"GetTable": 1, "BatchCreatePartition": 2, "BatchGetPartition": 1}
    with pytest.raises(TableNotFoundError):
        catalog.get_table("missing")
    with pytest.raises(ClientError, match="over 100"):
        glue.batch_create_partition(
            DatabaseName="db",
            TableName="cloudtrail",
            PartitionInputList=[
                {"Values": [str(i)], "StorageDescriptor": {"Location": "x"}} for i in range(101)
            ],
        )


@pytest.mark.parametrize("pool", ["serial", "default"])
def test_a_drain_deletes_the_backlog_at_its_call_bounds(pool: str) -> None:
    run = latency.drain(300, pool, latency=quiet_latency())

    assert run.calls["DeleteMessageBatch"] == 30
    assert run.calls["ReceiveMessage"] >= 30
    assert run.calls["BatchCreatePartition"] == 1, "48 partitions: one write"
    assert run.calls["GetTable"] == run.calls["GetDatabase"] == run.calls["GetQueueUrl"] == 1
    assert run.peak_bytes is None


def test_the_serial_pool_has_one_call_in_flight_where_the_refresh_has_a_pool() -> None:
    assert latency.concurrency_of("serial") == 1
    assert latency.settings_for("default").receive_wait_seconds == 0


def test_an_event_source_batch_is_handled_in_three_calls_and_traced() -> None:
    run = latency.event_source(100, traced=True, latency=quiet_latency())

    assert run.calls == {"GetDatabase": 1, "GetTable": 1, "BatchCreatePartition": 1}
    assert run.peak_bytes is not None
    assert run.peak_bytes > 0


def test_the_grep_line_has_the_documented_form() -> None:
    run = latency.DrainRun(100_000, "default", latency.VARIANTS[0], 1, 25.0, 50 * 2**20, {})

    assert latency.grep_line(run) == (
        "drain: 100000 messages in 25.0 s = 4000 msg/s, peak 50.0 MiB (latency median 15 ms)"
    )


@pytest.mark.parametrize("name", latency.VARIANTS)
def test_every_variant_handles_the_same_batch_with_the_same_calls(name: str) -> None:
    run = latency.event_source(50, variant_name=name, latency=quiet_latency())

    assert run.calls == {"GetDatabase": 1, "GetTable": 1, "BatchCreatePartition": 1}


def test_the_variant_without_msgspec_reads_the_standard_way() -> None:
    fast: Any = s3_events._s3_fast
    with latency.variant("without msgspec"):
        assert s3_events._s3_fast is None
    assert s3_events._s3_fast is fast
    with pytest.raises(ValueError, match="no variant"), latency.variant("without everything"):
        pass


def test_a_traced_drain_tells_the_fakes_share_of_its_peak() -> None:
    run = latency.drain(300, "default", traced=True, latency=quiet_latency())

    assert run.peak_bytes is not None
    assert run.fake_bytes is not None
    assert 0 < run.fake_bytes <= run.peak_bytes, "the queue's receipt handles and deletion records"
