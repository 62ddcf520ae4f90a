"""What the --local proof reports: catalog partitions of Glue sources, statements of Athena ones."""

from __future__ import annotations

import boto3
import pytest

from streamalert.aws import AwsSettings
from streamalert.s3_events import S3Object
from streamalert_cli.pipeline_check import _peek_notification, census, changes
from tests.helpers import REGION, S3_TEST_EVENT, s3_body
from tests.streamalert_cli.terraform.conftest import fixture_config

SETTINGS = AwsSettings(region=REGION)


@pytest.mark.usefixtures("moto")
def test_glue_sources_report_the_partitions_in_the_catalog() -> None:
    block = fixture_config("custom_settings").athena_refresh
    assert block is not None
    glue = boto3.client("glue", region_name=REGION)
    glue.create_database(DatabaseInput={"Name": "streamalert"})
    for table in ("alerts", "odd_names"):
        glue.create_table(
            DatabaseName="streamalert",
            TableInput={"Name": table, "PartitionKeys": [{"Name": "dt", "Type": "string"}]},
        )
    glue.create_partition(
        DatabaseName="streamalert",
        TableName="alerts",
        PartitionInput={
            "Values": ["2024-05-01-10"],
            "StorageDescriptor": {"Location": "s3://prod.streamalerts/alerts/dt=2024-05-01-10/"},
        },
    )

    assert changes(block, SETTINGS) == [
        "glue partition streamalert.alerts ['2024-05-01-10'] at s3://prod.streamalerts/alerts/dt=2024-05-01-10/"
    ]


@pytest.mark.usefixtures("moto")
def test_athena_sources_report_the_statements_the_emulator_received() -> None:
    block = fixture_config("athena_modes").athena_refresh
    assert block is not None
    boto3.client("athena", region_name=REGION).start_query_execution(
        QueryString="MSCK REPAIR TABLE `beta_team_streamalert`.`alerts`",
        ResultConfiguration={"OutputLocation": "s3://results/"},
    )

    assert changes(block, SETTINGS) == [
        "athena statement (SUCCEEDED, recorded by the emulator, not run): "
        "MSCK REPAIR TABLE `beta_team_streamalert`.`alerts`"
    ]


@pytest.mark.usefixtures("moto")
def test_nothing_changed_is_said() -> None:
    block = fixture_config("athena_modes").athena_refresh
    assert block is not None

    assert changes(block, SETTINGS) == ["the refresh changed nothing in the catalog"]


def test_the_census_explains_what_the_refresh_will_count() -> None:
    bodies = [
        S3_TEST_EVENT,
        S3_TEST_EVENT,
        s3_body(("acme.streamalerts", "alerts/dt=2024-05-01-10/a.json")),
        "not json",
    ]

    queued = census(bodies)

    assert queued.messages == 4
    assert queued.describe() == (
        "4 message(s): 1 ObjectCreated notification(s) "
        "(s3://acme.streamalerts/alerts/dt=2024-05-01-10/a.json); "
        "2 S3 test event(s), sent when a bucket's notifications were set up; 1 other message(s)"
    )


@pytest.mark.usefixtures("moto")
def test_the_proof_waits_for_the_objects_notification_and_counts_the_queue_without_taking_it() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for body in (S3_TEST_EVENT, s3_body(("b", "alerts/dt=1/x.json"))):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    queued = _peek_notification(sqs, "q", S3Object("b", "alerts/dt=1/x.json"))

    assert (queued.test_events, queued.objects) == (1, (S3Object("b", "alerts/dt=1/x.json"),))
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "2", "nothing taken"
