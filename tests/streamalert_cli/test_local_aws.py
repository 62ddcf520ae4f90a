"""The embedded emulator: the account of global.json, fake credentials, a free port, and a clean stop."""

from __future__ import annotations

import json

import boto3
import pytest

from streamalert_cli.local_aws import FAKE_ACCESS_KEY, LocalAws, running


@pytest.fixture
def environ() -> dict[str, str]:
    return {"AWS_PROFILE": "real-profile", "AWS_ACCESS_KEY_ID": "AKIAREAL", "PATH": "/usr/bin"}


def test_the_emulator_runs_with_the_configured_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "000000000000")
    with running("210987654321", "eu-west-1") as local:
        sts = boto3.client("sts", endpoint_url=local.endpoint, region_name="eu-west-1")

        assert sts.get_caller_identity()["Account"] == "210987654321"
        assert local.endpoint.startswith("http://127.0.0.1:")


def test_the_environment_points_at_the_emulator_and_is_restored(environ: dict[str, str]) -> None:
    local = LocalAws("123456789012", "us-east-1", environ)
    endpoint = local.start()
    try:
        assert environ["AWS_ENDPOINT_URL"] == endpoint
        assert environ["AWS_ACCESS_KEY_ID"] == FAKE_ACCESS_KEY
        assert environ["MOTO_ACCOUNT_ID"] == "123456789012"
        assert "AWS_PROFILE" not in environ
    finally:
        local.stop()

    assert environ == {"AWS_PROFILE": "real-profile", "AWS_ACCESS_KEY_ID": "AKIAREAL", "PATH": "/usr/bin"}


def test_redrive_policies_read_back_compact_as_aws_writes_them() -> None:
    with running("123456789012", "us-east-1") as local:
        sqs = boto3.client("sqs", endpoint_url=local.endpoint, region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        policy = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":5}}'
        queue = sqs.create_queue(QueueName="q", Attributes={"RedrivePolicy": policy})["QueueUrl"]

        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]

    assert attributes["RedrivePolicy"] == policy


def test_s3_notifications_to_functions_are_not_delivered(caplog: pytest.LogCaptureFixture) -> None:
    from moto.s3 import notifications

    with running("123456789012", "us-east-1"):
        event = {"Records": [{"eventSource": "aws:s3"}]}
        arn = "arn:aws:lambda:us-east-1:123456789012:function:f:production"

        assert notifications._invoke_awslambda("123456789012", event, arn, "us-east-1") is None

    assert not [r for r in caplog.records if "Docker" in r.getMessage()]


def test_event_source_mappings_on_an_alias_read_back_with_its_arn() -> None:
    with running("123456789012", "us-east-1") as local:
        kinesis = boto3.client("kinesis", endpoint_url=local.endpoint, region_name="us-east-1")
        lambda_client = boto3.client("lambda", endpoint_url=local.endpoint, region_name="us-east-1")
        iam = boto3.client("iam", endpoint_url=local.endpoint, region_name="us-east-1")
        kinesis.create_stream(StreamName="s", ShardCount=1)
        stream_arn = kinesis.describe_stream(StreamName="s")["StreamDescription"]["StreamARN"]
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lambda_client.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=role,
            Handler="h.h",
            Code={"ZipFile": b"x"},
            Publish=True,
        )
        alias_arn = lambda_client.create_alias(FunctionName="f", Name="production", FunctionVersion="1")[
            "AliasArn"
        ]

        mapping = lambda_client.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=alias_arn, StartingPosition="LATEST"
        )
        read_back = lambda_client.get_event_source_mapping(UUID=mapping["UUID"])

    assert read_back["FunctionArn"] == alias_arn


def test_s3_events_reach_eventbridge_rules_past_a_schedule_rule() -> None:
    """The deploy's schedule rule comes first on the bus; an EventBridge bucket's rule still gets events."""
    with running("123456789012", "us-east-1") as local:
        clients = {
            name: boto3.client(name, endpoint_url=local.endpoint, region_name="us-east-1")
            for name in ("s3", "sqs", "events")
        }
        s3, sqs, events = clients["s3"], clients["sqs"], clients["events"]
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="schedule", ScheduleExpression="rate(10 minutes)")
        events.put_targets(
            Rule="schedule", Targets=[{"Id": "f", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}]
        )
        events.put_rule(Name="objects", EventPattern='{"source": ["aws.s3"]}')
        events.put_targets(Rule="objects", Targets=[{"Id": "q", "Arn": arn}])
        s3.create_bucket(Bucket="eb-bucket")
        s3.put_bucket_notification_configuration(
            Bucket="eb-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}}
        )

        s3.put_object(Bucket="eb-bucket", Key="k", Body=b"x")

        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    created = [json.loads(m["Body"]) for m in messages if '"Object Created"' in m["Body"]]
    assert [event["detail"]["object"]["key"] for event in created] == ["k"]
