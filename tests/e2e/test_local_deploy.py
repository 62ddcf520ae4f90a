"""``scripts/deploy --processor all --local`` end to end: a real terraform apply of the three processors on
the embedded emulator, real zips uploaded, then the proof that runs those zips, one hop a line: a
CloudTrail log in, the rule handler's alert on the alerts queue, the alert handler's object in the alerts
bucket, its notification on the refresh queue, the refresh handler's partition; then the history (objects
whose notifications expired) that the refresh misses and the backfill registers, once.

The lifecycle test (deploy, redeploy, rollback, destroy in one emulator) takes about five minutes on two
cores: it runs when ``STREAMALERT_E2E_LIFECYCLE=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from streamalert.s3_events import S3Object, read_notification
from streamalert_cli.deploy import deploy
from streamalert_cli.deployment import Options
from streamalert_cli.destroy import destroy
from streamalert_cli.local_aws import LocalAws
from streamalert_cli.rollback import rollback
from tests.helpers import ACCOUNT_ID, REGION

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BASIC = REPO / "tests" / "fixtures" / "terraform" / "configs" / "basic"
FUNCTION = "acme_streamalert_athena_partition_refresh"
# The issue asks for under three minutes from a warm environment (about 100 s measured on two cores)
BUDGET_SECONDS = 180


@pytest.fixture(autouse=True)
def _terraform_required() -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH (a documented prerequisite of scripts/deploy)")


def test_deploy_all_local_applies_and_proves_the_pipeline(tmp_path: Path) -> None:
    command = [sys.executable, str(REPO / "scripts" / "deploy"), "--processor", "all", "--local"]
    started = time.monotonic()
    result = subprocess.run(
        [*command, "--build-dir", str(tmp_path / "build")],
        capture_output=True,
        text=True,
        check=False,
        timeout=BUDGET_SECONDS + 60,
    )
    elapsed = time.monotonic() - started

    out = result.stdout
    lines = out.splitlines()
    assert result.returncode == 0, out + result.stderr
    assert result.stderr == ""
    assert "deploy: processors: athena, rule, alert" in lines
    assert "deploy: terraform apply: Apply complete! Resources: " in out
    for function in (FUNCTION, "acme_streamalert_rule_processor", "acme_streamalert_alert_processor"):
        assert f" {function} alias production -> version 1 (published 1)" in out
    assert "python3.12, boto3 of " in _line(lines, "lambda runtime")  # each hop runs its uploaded zip
    assert "deploy: write log: s3://acme-cloudtrail-logs/local-check/" in out
    assert 'alerts {"root_account_use": 2}, 2 sent' in _line(lines, "rule handler")
    assert "2 alert messages received from acme_streamalert_alerts" in _line(lines, "alerts queue")
    assert "2 alerts written, s3://acme.streamalerts/alerts/dt=" in _line(lines, "alert handler")
    queued = _line(lines, "notification on the queue")
    assert "2 ObjectCreated notification(s) (s3://acme.streamalerts/alerts/dt=" in queued
    held = int(queued.split(" holds ")[1].split(" message(s)")[0])
    refresh = _line(lines, "refresh handler").removeprefix("deploy: refresh handler: ")
    summary = json.loads(refresh.split(" (received: ")[0])
    assert summary["messages_received"] == held, "the proof names every message the refresh counts"
    assert summary["messages_kept"] == 0
    assert summary["partitions_added"] == {"alerts": 1}
    assert "deploy: glue partition streamalert.alerts" in out
    # the history: objects whose notifications expired are missed by the refresh, found by the backfill
    written = _line(lines, "history: write")
    assert "3 alert objects in 2 older hourly folders of s3://acme.streamalerts/alerts/" in written
    expired = _line(lines, "history: notifications expire")
    assert (
        "their 3 notification(s) taken off acme_streamalert_athena_data_bucket_notifications unread"
        in expired
    )
    missed = _line(lines, "history: refresh handler").removeprefix("deploy: history: refresh handler: ")
    assert json.loads(missed.split("; ")[0])["partitions_added"] == {}
    assert "the catalog holds none of dt=" in missed
    backfilled = _line(lines, "history: backfill")
    assert "3 partitions found, 1 already there, 2 registered (add_glue_partition)" in backfilled
    assert "the catalog now holds dt=" in backfilled
    assert "3 partitions found, 3 already there, 0 registered" in _line(lines, "history: backfill again")
    _assert_data_table_registered(lines)  # the deploy created cloudtrail from logs.json
    assert out.rstrip().endswith("deploy: done")
    for app in ("athena_refresh", "rule_processor", "alert_processor"):
        assert (tmp_path / "build" / "packages" / f"{app}.zip").is_file()
    logs = tmp_path / "build" / "terraform" / "local"
    assert "Refresh finished" in (logs / "refresh-handler.log").read_text()
    assert "Refresh finished" in (logs / "refresh-handler-history.log").read_text()
    assert "root_account_use" in (logs / "alert-handler.log").read_text()
    assert elapsed < BUDGET_SECONDS, f"took {elapsed:.0f}s"


def _assert_data_table_registered(lines: list[str]) -> None:
    """A CloudTrail log in the Firehose layout gives the created cloudtrail table a partition: the
    emulator's Athena shows the statement the refresh sent."""
    data_write = _line(lines, "data table: write")
    assert "s3://acme-firehose-data/cloudtrail/" in data_write
    assert "for table cloudtrail" in data_write
    data_run = _line(lines, "data table: refresh handler").removeprefix(
        "deploy: data table: refresh handler: "
    )
    assert json.loads(data_run.split("; ")[0])["partitions_added"] == {"cloudtrail": 1}
    registered = next(
        line for line in lines if line.startswith("deploy: data table streamalert.cloudtrail: ")
    )
    assert "partition dt='" in registered
    folder = registered.split(" at ", 1)[1].split(", ", 1)[0]
    assert folder.startswith("s3://acme-firehose-data/cloudtrail/")
    assert f"LOCATION '{folder}'" in registered  # the folder the line names is the one registered
    assert "ALTER TABLE `streamalert`.`cloudtrail` ADD IF NOT EXISTS PARTITION" in registered


def _line(lines: list[str], step: str) -> str:
    return next(line for line in lines if line.startswith(f"deploy: {step}: "))


@pytest.fixture
def emulator() -> Iterator[LocalAws]:
    local = LocalAws(ACCOUNT_ID, REGION)
    local.start()
    yield local
    local.stop()


@pytest.mark.skipif(
    os.environ.get("STREAMALERT_E2E_LIFECYCLE") != "1",
    reason="about three minutes: set STREAMALERT_E2E_LIFECYCLE=1 to run deploy, rollback and destroy "
    "(tox's py312 environment does)",
)
def test_redeploy_rollback_and_destroy_keep_the_protected_data(tmp_path: Path, emulator: LocalAws) -> None:
    config_dir = tmp_path / "conf"
    shutil.copytree(BASIC, config_dir)
    options = Options("athena", local=True, yes=True, config_dir=config_dir, build_root=tmp_path / "build")
    lambda_client = boto3.client("lambda", region_name=REGION)
    other_team = _another_consumer_of_the_data_bucket()  # before the first deploy

    assert deploy(options, local_aws=emulator) == 0
    _check_the_other_consumer_is_kept(other_team, ours=["acme_streamalert:athena_refresh:" + DATA_SOURCE])
    _read_the_data_bucket_through_eventbridge(config_dir)  # in the redeploy
    lambda_json = config_dir / "lambda.json"
    lambda_json.write_text(lambda_json.read_text().replace('"memory": 128', '"memory": 256'))
    queue_before, waiting = _switch_to_the_queue_trigger(lambda_json)  # in the same redeploy
    assert deploy(options, local_aws=emulator) == 0
    assert lambda_client.get_alias(FunctionName=FUNCTION, Name="production")["FunctionVersion"] == "2"
    _check_the_queue_trigger(queue_before, waiting)
    _check_the_other_consumer_is_kept(other_team, ours=[])
    _check_eventbridge_delivers_to_the_refresh_queue()

    assert rollback(options, local_aws=emulator) == 0
    assert lambda_client.get_alias(FunctionName=FUNCTION, Name="production")["FunctionVersion"] == "1"

    assert destroy(options, local_aws=emulator) == 0
    assert FUNCTION not in [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]]
    boto3.client("s3", region_name=REGION).head_bucket(Bucket="acme.streamalerts")
    glue = boto3.client("glue", region_name=REGION)
    assert glue.get_table(DatabaseName="streamalert", Name="alerts")["Table"]["Name"] == "alerts"
    # the table created from logs.json is kept too, as it was deployed
    cloudtrail = glue.get_table(DatabaseName="streamalert", Name="cloudtrail")["Table"]
    assert [key["Name"] for key in cloudtrail["PartitionKeys"]] == ["dt"]
    assert cloudtrail["StorageDescriptor"]["SerdeInfo"]["Parameters"]["mapping.eventname"] == "eventName"
    _check_the_other_consumer_is_kept(other_team, ours=[])  # handed back, not deleted
    events = boto3.client("events", region_name=REGION)
    assert events.list_rules(NamePrefix="acme_streamalert_objects_")["Rules"] == []


# The basic config's data bucket, which an AWS account already has: created here with another team's queue
# notification, it gets no stand-in, and every command keeps that entry
DATA_BUCKET = "acme-firehose-data"
DATA_SOURCE = f"{DATA_BUCKET}/cloudtrail"


def _another_consumer_of_the_data_bucket() -> str:
    """The data bucket, with another team's queue notified of objects under ``other/``: the queue's URL."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="other-team")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=DATA_BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=DATA_BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "other-team",
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "other/"}]}},
                }
            ]
        },
    )
    return str(url)


def _check_the_other_consumer_is_kept(url: str, ours: list[str]) -> None:
    """The other team's entry is on the data bucket beside ``ours`` (the deployment's entries), and its
    queue still receives the bucket's new objects under ``other/``."""
    s3 = boto3.client("s3", region_name=REGION)
    configuration = s3.get_bucket_notification_configuration(Bucket=DATA_BUCKET)
    entries = {entry["Id"]: entry for entry in configuration.get("QueueConfigurations", [])}
    assert sorted(entries) == sorted(["other-team", *ours])
    assert entries["other-team"]["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "other/"}]
    key = f"other/{len(ours)}-{time.monotonic_ns()}.csv"
    s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=b"x")
    sqs = boto3.client("sqs", region_name=REGION)
    bodies: list[str] = []
    for _ in range(3):  # S3's test events of each configuration written come first
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        bodies += [message["Body"] for message in messages]
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert any(S3Object(DATA_BUCKET, key) in read_notification(body).objects for body in bodies)


def _read_the_data_bucket_through_eventbridge(config_dir: Path) -> None:
    global_json = config_dir / "global.json"
    document = json.loads(global_json.read_text())
    document["buckets"] = {DATA_BUCKET: {"notifications": "eventbridge"}}
    global_json.write_text(json.dumps(document))


def _check_eventbridge_delivers_to_the_refresh_queue() -> None:
    """An object of the source reaches the refresh queue as an EventBridge event through the deployed rule;
    the bucket notifies no queue of the deployment any more."""
    (rule,) = boto3.client("events", region_name=REGION).list_rules(NamePrefix="acme_streamalert_objects_")[
        "Rules"
    ]
    assert json.loads(rule["EventPattern"])["detail"]["object"] == {"key": [{"prefix": "cloudtrail/"}]}
    key = "cloudtrail/2024/01/02/03/through-eventbridge.json"
    boto3.client("s3", region_name=REGION).put_object(Bucket=DATA_BUCKET, Key=key, Body=b"{}")
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="acme_streamalert_athena_data_bucket_notifications")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    events = [json.loads(m["Body"]) for m in messages if json.loads(m["Body"]).get("source") == "aws.s3"]
    assert [read_notification(json.dumps(event)).objects for event in events] == [
        (S3Object(DATA_BUCKET, key),)
    ]


REFRESH_QUEUE = "acme_streamalert_athena_data_bucket_notifications"


def _switch_to_the_queue_trigger(lambda_json: Path) -> tuple[dict[str, str], str]:
    """Set the refresh on the queue trigger, after a notification arrived that the schedule has not run for:
    the queue's identity before the switch, and the hour folder of that waiting notification's object."""
    config = json.loads(lambda_json.read_text())
    block = config["athena_partition_refresh_config"]
    del block["refresh_interval"]
    block["trigger"] = "queue"
    lambda_json.write_text(json.dumps(config))
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=REFRESH_QUEUE)["QueueUrl"]
    waiting = "2020-01-01-00"
    boto3.client("s3", region_name=REGION).put_object(
        Bucket="acme.streamalerts", Key=f"alerts/dt={waiting}/before-the-switch.json", Body=b"{}"
    )
    attributes = ["QueueArn", "CreatedTimestamp", "ApproximateNumberOfMessages"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=attributes)["Attributes"]
    assert before["ApproximateNumberOfMessages"] == "1", "the notification waits on the queue"
    return before, waiting


def _check_the_queue_trigger(before: dict[str, str], waiting: str) -> None:
    """The redeploy kept the queue (and so its message, which the proof's batch handled), mapped it to the
    alias and removed the schedule."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=REFRESH_QUEUE)["QueueUrl"]
    after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (after["QueueArn"], after["CreatedTimestamp"]) == (before["QueueArn"], before["CreatedTimestamp"])
    assert after["VisibilityTimeout"] == str(6 * 60 + 10)  # six timeouts and the default batching window
    glue = boto3.client("glue", region_name=REGION)
    found = glue.get_partitions(DatabaseName="streamalert", TableName="alerts")["Partitions"]
    assert [waiting] in [partition["Values"] for partition in found], "the waiting notification was handled"
    lambda_client = boto3.client("lambda", region_name=REGION)
    [mapping] = lambda_client.list_event_source_mappings(EventSourceArn=before["QueueArn"])[
        "EventSourceMappings"
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (1000, 10)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert mapping["State"] == "Disabled"  # on the emulator: it would run the function in a container
    events = boto3.client("events", region_name=REGION)
    assert events.list_rules(NamePrefix=FUNCTION)["Rules"] == []
