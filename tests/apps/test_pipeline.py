"""The whole pipeline in one moto account (a functional test: the resources are made here, in-process, not
by terraform), each handler run in-process where AWS would invoke it:

a CloudTrail log file lands in an input bucket -> (S3 notification) rule processor -> alerts queue ->
alert processor -> alert objects under alerts/dt=.../ of the alerts bucket -> (S3 notification) the
refresh function's queue -> refresh function -> the partition in the Glue catalog (add_glue_partition)
or the right statement sent to Athena (add_hive_partition, repair_hive_table).

moto runs no Lambda function without docker, so the test plays Lambda: it takes each event where AWS
would deliver it (S3 notifications are real: moto sends them to SQS), and hands it to the handler.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.athena.models import athena_backends

from apps.alert_processor import main as alert_main
from apps.athena_refresh import main as athena_main
from apps.rule_processor import main as rule_main
from streamalert.constants import (
    alerts_bucket_name,
    alerts_queue_name,
    athena_queue_name,
    athena_workgroup_name,
)
from tests.helpers import ACCOUNT_ID, REGION, REPO, FakeContext, write_json

PREFIX = "acme"
INPUT_BUCKET = "acme-cloudtrail-logs"
ALERTS_BUCKET = alerts_bucket_name(PREFIX)
DATABASE = "streamalert"
SAMPLES = REPO / "tests" / "fixtures" / "logs" / "cloudtrail"
# Stands in for the rule processor's S3 trigger: S3 writes the notification here, the test hands it over
INPUT_NOTIFICATIONS = "acme_input_notifications"
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


@dataclass
class Account:
    s3: Any
    sqs: Any
    glue: Any

    def queue_url(self, name: str) -> str:
        url: str = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return url

    def take(self, queue: str) -> list[dict[str, Any]]:
        """Every message on a queue, taken off it as a Lambda event source does."""
        url = self.queue_url(queue)
        taken: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            taken.extend(messages)
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return taken

    def alert_keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=ALERTS_BUCKET, Prefix="alerts/").get("Contents", [])
        return sorted(item["Key"] for item in listed)

    def partitions(self) -> dict[tuple[str, ...], str]:
        partitions = self.glue.get_partitions(DatabaseName=DATABASE, TableName="alerts")["Partitions"]
        return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in partitions}


def notify(s3: Any, sqs: Any, bucket: str, queue: str, prefix: str = "") -> None:
    """S3 -> SQS notifications of new objects (with the queue policy S3 needs in AWS)."""
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rules = [{"Name": "prefix", "Value": prefix}] if prefix else []
    configuration: dict[str, Any] = {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}
    if rules:
        configuration["Filter"] = {"Key": {"FilterRules": rules}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [configuration]}
    )


def write_config(directory: Path, refresh_type: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_json(
        directory / "global.json",
        {"account": {"aws_account_id": ACCOUNT_ID, "prefix": PREFIX, "region": REGION}},
    )
    write_json(
        directory / "lambda.json",
        {
            "rule_processor_config": {"inputs": {"s3": [INPUT_BUCKET]}},
            "alert_processor_config": {"outputs": ["s3:alerts", "log"]},
            "athena_partition_refresh_config": {
                "refresh_type": {refresh_type: {"<prefix>.streamalerts": "alerts"}},
                "database_name": DATABASE,
            },
        },
    )
    shutil.copy(REPO / "conf" / "logs.json", directory / "logs.json")


@pytest.fixture
def account(moto: None) -> Account:
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    glue = boto3.client("glue", region_name=REGION)
    for bucket in (INPUT_BUCKET, ALERTS_BUCKET):
        s3.create_bucket(Bucket=bucket)
    sqs.create_queue(QueueName=alerts_queue_name(PREFIX))
    notify(s3, sqs, INPUT_BUCKET, INPUT_NOTIFICATIONS)
    notify(s3, sqs, ALERTS_BUCKET, athena_queue_name(PREFIX), prefix="alerts/")
    glue.create_database(DatabaseInput={"Name": DATABASE})
    # The refresh runs its statements in the deployment's workgroup (the Athena module creates it)
    boto3.client("athena", region_name=REGION).create_work_group(
        Name=athena_workgroup_name(PREFIX),
        Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/refresh/"}},
    )
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": "alerts",
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "id", "Type": "string"},
                    {"Name": "rule_name", "Type": "string"},
                    {"Name": "log_type", "Type": "string"},
                    {"Name": "record", "Type": "string"},
                    {"Name": "created", "Type": "string"},
                    {"Name": "outputs", "Type": "array<string>"},
                ],
                "Location": f"s3://{ALERTS_BUCKET}/alerts/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
            },
        },
    )
    return Account(s3=s3, sqs=sqs, glue=glue)


def run_pipeline(
    account: Account, config_dir: Path, monkeypatch: pytest.MonkeyPatch, refresh_type: str
) -> None:
    """A CloudTrail file dropped in the input bucket, then each function where AWS would invoke it (one
    cold container each: a new handler)."""
    rule_handler, alert_handler, refresh_handler = (
        rule_main.new_handler(),
        alert_main.new_handler(),
        athena_main.new_handler(),
    )
    write_config(config_dir, refresh_type)
    monkeypatch.setenv("STREAMALERT_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("STREAMALERT_RECEIVE_WAIT_SECONDS", "0")
    records = [
        record
        for name in ("root_account_use", "console_login_without_mfa", "s3_bucket_made_public", "benign")
        for record in json.loads((SAMPLES / f"{name}.json").read_text())["Records"]
    ]
    account.s3.put_object(
        Bucket=INPUT_BUCKET,
        Key="AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/123456789012_CloudTrail_us-east-1_x.json.gz",
        Body=gzip.compress(json.dumps({"Records": records}).encode()),
    )

    # S3 -> rule processor: the notification S3 wrote, handed over as Lambda would
    s3_events = [json.loads(m["Body"]) for m in account.take(INPUT_NOTIFICATIONS)]
    [s3_event] = [event for event in s3_events if "Records" in event]
    summary = rule_handler(s3_event, FakeContext())
    assert summary["alerts_sent"] == 12

    # alerts queue -> alert processor, in batches of 10 as the event source mapping sends them
    messages = account.take(alerts_queue_name(PREFIX))
    assert len(messages) == 12
    for start in range(0, len(messages), 10):
        records_of_batch = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "eventSource": "aws:sqs",
            }
            for m in messages[start : start + 10]
        ]
        assert alert_handler({"Records": records_of_batch}, FakeContext()) == {"batchItemFailures": []}

    # alerts bucket -> (S3 notification on the refresh queue) -> refresh function on its schedule
    refresh = refresh_handler(SCHEDULED_EVENT, FakeContext())
    assert refresh["messages_deleted"] == refresh["messages_received"] >= 12


def alert_hours(account: Account) -> set[str]:
    keys = account.alert_keys()
    assert len(keys) == 12
    return {key.split("/")[1].removeprefix("dt=") for key in keys}


def test_a_cloudtrail_file_becomes_a_glue_partition_of_alerts(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pipeline(account, tmp_path / "conf", monkeypatch, "add_glue_partition")

    hours = alert_hours(account)
    assert account.partitions() == {(hour,): f"s3://{ALERTS_BUCKET}/alerts/dt={hour}/" for hour in hours}
    stored = account.s3.get_object(Bucket=ALERTS_BUCKET, Key=account.alert_keys()[0])["Body"].read()
    assert sorted(json.loads(stored)) == ["created", "id", "log_type", "outputs", "record", "rule_name"]


def test_add_hive_partition_sends_the_ddl(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pipeline(account, tmp_path / "conf", monkeypatch, "add_hive_partition")

    [query] = [execution.query for execution in athena_backends[ACCOUNT_ID][REGION].executions.values()]
    head, *partitions = query.split("\n")
    assert head == f"ALTER TABLE `{DATABASE}`.`alerts` ADD IF NOT EXISTS"
    assert sorted(partitions) == [
        f"PARTITION (`dt` = '{hour}') LOCATION 's3://{ALERTS_BUCKET}/alerts/dt={hour}/'"
        for hour in sorted(alert_hours(account))
    ]
    assert account.partitions() == {}, "nothing written to the catalog directly"


def test_repair_hive_table_sends_msck(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pipeline(account, tmp_path / "conf", monkeypatch, "repair_hive_table")

    queries = [execution.query for execution in athena_backends[ACCOUNT_ID][REGION].executions.values()]
    assert queries == [f"MSCK REPAIR TABLE `{DATABASE}`.`alerts`"]
