"""The queue trigger's part of the --local proof, on moto: the mapping the deploy made is shown, the batch it
would deliver goes to the refresh handler as an SQS event, and only what the handler did not report failed
is deleted."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from config_schemas.models import (
    DEFAULT_EVENT_SOURCE,
    Config,
    EventSourceSettings,
    RefreshType,
    Source,
    TableRoute,
)
from streamalert import aws
from streamalert.constants import athena_queue_name
from streamalert.deadline import Deadline
from streamalert.sqs import messages_from_event
from streamalert_cli.common import Progress, StepFailed
from streamalert_cli.pipeline_event_source import prove_event_source
from streamalert_cli.processors import Processor
from streamalert_cli.zip_runner import ZipRun
from tests.apps.athena_refresh.conftest import make_config
from tests.helpers import REGION

BUCKET = "acme.streamalerts"
QUEUE = athena_queue_name("acme")
FUNCTION = "acme_streamalert_athena_partition_refresh"
ALERTS = TableRoute(Source(BUCKET), "alerts", RefreshType.ADD_GLUE_PARTITION)


class InProcessRefresh:
    """The refresh handler as Lambda runs it for an SQS batch, in this process on moto (not from its zip)."""

    def __init__(self, config: Config, fail_first: bool = False) -> None:
        self._config = config
        self._fail_first = fail_first
        self.events: list[Mapping[str, Any]] = []

    def invoke(self, processor: Processor, event: Mapping[str, Any], *, step: str, log_path: Path) -> ZipRun:
        assert processor.cli_name == "athena"
        self.events.append(event)
        messages = messages_from_event(dict(event))
        assert messages is not None, "the mapping's batch is an SQS event"
        refresher = PartitionRefresher.from_config(self._config, RefreshSettings(receive_wait_seconds=0))
        result = refresher.run_event_source(messages, Deadline.after(60))
        if self._fail_first:
            result = {"batchItemFailures": [{"itemIdentifier": messages[0].message_id}]}
        return ZipRun(result, "", 0.0)


@pytest.fixture
def queue_arn(moto: None) -> str:
    """The refresh queue told of the alerts bucket's objects, the catalog's table, and the function with
    its alias and the disabled mapping that the local deploy makes on the queue trigger."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "370"})["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    glue = boto3.client("glue", region_name=REGION)
    glue.create_database(DatabaseInput={"Name": "streamalert"})
    glue.create_table(
        DatabaseName="streamalert",
        TableInput={
            "Name": "alerts",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": {"Location": f"s3://{BUCKET}/alerts/"},
        },
    )
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="refresh", AssumeRolePolicyDocument="{}"
    )
    lambda_client = boto3.client("lambda", region_name=REGION)
    lambda_client.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="apps.athena_refresh.main.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Publish=True,
    )
    alias = lambda_client.create_alias(FunctionName=FUNCTION, Name="production", FunctionVersion="1")
    lambda_client.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=alias["AliasArn"],
        BatchSize=DEFAULT_EVENT_SOURCE.batch_size,
        MaximumBatchingWindowInSeconds=DEFAULT_EVENT_SOURCE.maximum_batching_window_seconds,
        ScalingConfig={"MaximumConcurrency": DEFAULT_EVENT_SOURCE.maximum_concurrency},
        FunctionResponseTypes=["ReportBatchItemFailures"],
        Enabled=False,
    )
    return arn


def put_alerts(count: int) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for number in range(count):
        s3.put_object(Bucket=BUCKET, Key=f"alerts/dt=2026-11-29-2{number}/alert-{number}.json", Body=b"{}")


def messages_on_queue() -> int:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def prove(
    handlers: InProcessRefresh,
    tmp_path: Path,
    expected: int,
    settings: EventSourceSettings = DEFAULT_EVENT_SOURCE,
) -> tuple[dict[str, Any], list[str]]:
    out = io.StringIO()
    result = prove_event_source(
        settings,
        Progress("deploy", out),
        handlers,  # type: ignore[arg-type]
        aws.AwsSettings(region=REGION),
        queue=QUEUE,
        expected=expected,
        log_path=tmp_path / "refresh-handler.log",
    )
    return result, out.getvalue().splitlines()


def test_the_handler_gets_the_queues_batch_as_an_sqs_event_and_its_successes_are_deleted(
    queue_arn: str, tmp_path: Path
) -> None:
    put_alerts(3)  # beside S3's test event, sent when the notification was set up
    handlers = InProcessRefresh(make_config((ALERTS,)))

    result, lines = prove(handlers, tmp_path, expected=4)

    assert result == {"batchItemFailures": []}
    [event] = handlers.events
    records = event["Records"]
    assert len(records) == 4
    assert {record["eventSource"] for record in records} == {"aws:sqs"}
    assert {record["eventSourceARN"] for record in records} == {queue_arn}
    assert all(record["attributes"]["ApproximateReceiveCount"] == "1" for record in records)
    assert messages_on_queue() == 0  # deleted, as Lambda deletes a batch's successes
    partitions = boto3.client("glue", region_name=REGION).get_partitions(
        DatabaseName="streamalert", TableName="alerts"
    )
    assert sorted(p["Values"][0] for p in partitions["Partitions"]) == [
        "2026-11-29-20",
        "2026-11-29-21",
        "2026-11-29-22",
    ]
    mapping = next(text for text in lines if text.startswith("deploy: event source mapping: "))
    assert f"{QUEUE} -> arn:aws:lambda:{REGION}:" in mapping
    assert "Disabled (on the emulator: the proof delivers its batch)" in mapping
    assert "batches of up to 1000 within 10 s, at most 5 at once, answers ReportBatchItemFailures" in mapping
    handler = next(text for text in lines if text.startswith("deploy: refresh handler: "))
    assert '{"batchItemFailures": []} for a batch of 4 message(s)' in handler
    assert "4 deleted as Lambda does" in handler


def test_a_batch_holds_at_most_the_batch_size(queue_arn: str, tmp_path: Path) -> None:
    put_alerts(3)
    handlers = InProcessRefresh(make_config((ALERTS,)))
    small = EventSourceSettings(batch_size=2, maximum_batching_window_seconds=0, maximum_concurrency=2)

    prove(handlers, tmp_path, expected=4, settings=small)

    assert len(handlers.events[0]["Records"]) == 2
    assert messages_on_queue() == 2


def test_a_message_reported_failed_stays_on_the_queue_and_fails_the_step(
    queue_arn: str, tmp_path: Path
) -> None:
    put_alerts(1)
    handlers = InProcessRefresh(make_config((ALERTS,)), fail_first=True)

    with pytest.raises(StepFailed, match=r"1 of 2 messages reported failed: \{\"batchItemFailures\""):
        prove(handlers, tmp_path, expected=2)

    assert messages_on_queue() == 1  # hidden until its visibility timeout ends, then received again


def test_no_mapping_on_the_queue_fails_the_step_naming_the_queue(moto: None, tmp_path: Path) -> None:
    boto3.client("sqs", region_name=REGION).create_queue(QueueName=QUEUE)
    handlers = InProcessRefresh(make_config((ALERTS,)))

    with pytest.raises(StepFailed, match=f"no event source mapping reads {QUEUE}: the deploy made none"):
        prove(handlers, tmp_path, expected=1)
    assert handlers.events == []
