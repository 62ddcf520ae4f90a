"""The history part of the --local proof: objects whose notifications never reach the refresh stay out of
the catalog, the backfill registers them, a second pass registers nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from config_schemas.models import Config, RefreshType, Source, TableRoute
from streamalert.constants import athena_queue_name
from streamalert.deadline import Deadline
from streamalert.s3_events import S3Object
from streamalert_cli import pipeline_history
from streamalert_cli.common import Progress, StepFailed
from streamalert_cli.pipeline_history import (
    expire_notifications,
    history_alerts,
    prove_history,
    unregistered_history,
)
from streamalert_cli.processors import Processor
from streamalert_cli.zip_runner import ZipRun
from tests.apps.athena_refresh.conftest import make_config
from tests.helpers import REGION, s3_body

BUCKET = "acme.streamalerts"
QUEUE = athena_queue_name("acme")
ALERTS = TableRoute(Source(BUCKET), "alerts", RefreshType.ADD_GLUE_PARTITION)


class InProcessRefresh:
    """The refresh handler as the proof invokes it (scheduled: an empty event), run in this process on
    moto instead of from its zip."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self.runs = 0

    def invoke(self, processor: Processor, event: Mapping[str, Any], *, step: str, log_path: Path) -> ZipRun:
        assert processor.cli_name == "athena"
        assert not event  # as the schedule invokes it
        self.runs += 1
        refresher = PartitionRefresher.from_config(self._config, RefreshSettings(receive_wait_seconds=0))
        return ZipRun(refresher.run_scheduled(Deadline.after(60)), "", 0.0)


@pytest.fixture
def queue_url(moto: None) -> str:
    """The refresh queue, told of every object created in the alerts bucket (and sent S3's test event)."""
    sqs = boto3.client("sqs", region_name=REGION)
    url: str = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
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
    return url


def partitions() -> list[list[str]]:
    glue = boto3.client("glue", region_name=REGION)
    found = glue.get_partitions(DatabaseName="streamalert", TableName="alerts")["Partitions"]
    return sorted(p["Values"] for p in found)


def prove(config: Config, tmp_path: Path) -> tuple[list[str], InProcessRefresh]:
    out = io.StringIO()
    handlers = InProcessRefresh(config)
    deployment = SimpleNamespace(config=config, workdir=tmp_path)
    prove_history(deployment, Progress("deploy", out), handlers)  # type: ignore[arg-type]
    return out.getvalue().splitlines(), handlers


def line(lines: list[str], step: str) -> str:
    return next(text for text in lines if text.startswith(f"deploy: history: {step}: "))


def test_history_alerts_fill_the_first_hours_of_the_day() -> None:
    history = history_alerts(datetime(2024, 5, 3, 17, 42, tzinfo=timezone.utc), (2, 1))

    assert history.hours == ("2024-05-03-00", "2024-05-03-01")
    folders = sorted(o.key.rsplit("/", 1)[0] for o in history.objects(BUCKET))
    assert folders == ["alerts/dt=2024-05-03-00", "alerts/dt=2024-05-03-00", "alerts/dt=2024-05-03-01"]
    assert {json.loads(alert.to_json())["rule_name"] for alert in history.alerts} == {"local_deploy_history"}


def test_history_goes_back_past_the_days_a_former_proof_registered() -> None:
    now = datetime(2024, 5, 10, 8, tzinfo=timezone.utc)

    assert unregistered_history(now, set()).hours == ("2024-05-08-00", "2024-05-08-01")
    taken = {("2024-05-08-01",), ("2024-05-07-00",)}
    assert unregistered_history(now, taken).hours == ("2024-05-06-00", "2024-05-06-01")


def test_history_with_every_day_taken_fails_the_step() -> None:
    now = datetime(2024, 5, 10, 8, tzinfo=timezone.utc)
    taken = {(f"{now - timedelta(days=days):%Y-%m-%d}-00",) for days in range(0, 40)}

    with pytest.raises(StepFailed, match="no day is left"):
        unregistered_history(now, taken)


def test_expire_takes_only_the_notifications_of_the_history(queue_url: str) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    history = {
        S3Object(BUCKET, "alerts/dt=2024-05-01-00/a.json"),
        S3Object(BUCKET, "alerts/dt=2024-05-01-01/b.json"),
    }
    for s3_object in history:
        sqs.send_message(QueueUrl=queue_url, MessageBody=s3_body((s3_object.bucket, s3_object.key)))
    sqs.send_message(QueueUrl=queue_url, MessageBody=s3_body((BUCKET, "alerts/dt=2024-05-02-00/c.json")))

    assert expire_notifications(sqs, queue_url, history) == 2

    left = [m["Body"] for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]]
    # at once: what was looked at and kept is visible again (the other object's, and S3's test event)
    assert len(left) == 2
    assert s3_body((BUCKET, "alerts/dt=2024-05-02-00/c.json")) in left
    assert any('"s3:TestEvent"' in body for body in left)


def test_expire_fails_naming_a_notification_that_never_came(
    queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_history, "_NOTIFICATION_WAIT_SECONDS", 1)
    sqs = boto3.client("sqs", region_name=REGION)
    never = S3Object(BUCKET, "alerts/dt=2024-05-01-00/never.json")

    with pytest.raises(
        StepFailed, match=r"no notification of s3://acme.streamalerts/alerts/dt=2024-05-01-00/never.json"
    ):
        expire_notifications(sqs, queue_url, {never})


def test_the_refresh_misses_the_history_and_the_backfill_registers_it_once(
    queue_url: str, tmp_path: Path
) -> None:
    config = make_config((ALERTS,))

    lines, handlers = prove(config, tmp_path)

    written = line(lines, "write")
    assert "3 alert objects in 2 older hourly folders of s3://acme.streamalerts/alerts/" in written
    hours = written.split("(dt=")[1].split(")")[0].split(", dt=")
    assert (
        "their 3 notification(s) taken off acme_streamalert_athena_data_bucket_notifications unread"
        in line(lines, "notifications expire")
    )
    refresh = line(lines, "refresh handler")
    summary = json.loads(refresh.removeprefix("deploy: history: refresh handler: ").split("; ")[0])
    assert summary["partitions_added"] == {}
    assert summary["messages_received"] == 1  # the test event S3 sent: the history's notifications are gone
    assert "the catalog holds none of dt=" in refresh
    assert handlers.runs == 1
    assert (
        "alerts: 2 folders listed, 2 partitions found, 0 already there, 2 registered (add_glue_partition); "
        "the catalog now holds dt=" in line(lines, "backfill")
    )
    assert partitions() == [[hour] for hour in hours]
    assert "alerts: 2 folders listed, 2 partitions found, 2 already there, 0 registered" in line(
        lines, "backfill again"
    )
    assert len(lines) == 5


def test_a_partition_the_refresh_registered_is_counted_as_already_there(
    queue_url: str, tmp_path: Path
) -> None:
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key="alerts/dt=2024-05-01-00/new.json", Body=b"{}"
    )
    InProcessRefresh(make_config((ALERTS,))).invoke(
        pipeline_history.by_name("athena"), {}, step="refresh handler", log_path=tmp_path / "log"
    )

    lines, _ = prove(make_config((ALERTS,)), tmp_path)

    assert "3 partitions found, 1 already there, 2 registered" in line(lines, "backfill")
    assert "3 partitions found, 3 already there, 0 registered" in line(lines, "backfill again")


def test_without_a_glue_table_of_alerts_it_says_why_it_is_skipped(queue_url: str, tmp_path: Path) -> None:
    hive = replace(ALERTS, refresh_type=RefreshType.ADD_HIVE_PARTITION)

    lines, handlers = prove(make_config((hive,)), tmp_path)

    assert lines == [
        "deploy: pipeline check: history skipped (the backfill's second pass is shown on a Glue table: the "
        "alerts bucket is not the source of an add_glue_partition table)"
    ]
    assert handlers.runs == 0
