"""Reading the data buckets' notification configurations before a deploy renders them (moto)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from streamalert_cli.bucket_notifications import NotificationReadError, entries, read_bucket_states
from streamalert_cli.terraform.context import STAND_IN_TAG
from streamalert_cli.terraform.notifications import BucketState, NotificationEntry
from tests.helpers import REGION

MODULES = {"athena_refresh", "rule_processor"}


def queue_arn(sqs: Any, name: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


@pytest.mark.usefixtures("moto")
def test_entries_of_others_are_read_with_their_filters_and_the_deployments_are_left_out() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="audit")["TopicArn"]
    other, ours, legacy = queue_arn(sqs, "other-team"), queue_arn(sqs, "ours"), queue_arn(sqs, "legacy")
    s3.create_bucket(Bucket="acme-data")
    s3.put_bucket_notification_configuration(
        Bucket="acme-data",
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "other-team",
                    "QueueArn": other,
                    "Events": ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "other/"},
                                {"Name": "suffix", "Value": ".gz"},
                            ]
                        }
                    },
                },
                {
                    "Id": "acme_streamalert:athena_refresh:acme-data/logs",
                    "QueueArn": ours,
                    "Events": ["s3:ObjectCreated:*"],
                },
                {"Id": "athena_refresh:acme-data/old", "QueueArn": legacy, "Events": ["s3:ObjectCreated:*"]},
            ],
            "TopicConfigurations": [{"Id": "audit", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}],
        },
    )
    s3.create_bucket(Bucket="acme-empty")

    states = read_bucket_states(s3, ["acme-data", "acme-empty", "acme-missing"], "acme", MODULES, local=False)

    assert states == (
        BucketState(
            "acme-data",
            kept=(
                NotificationEntry(
                    id="other-team",
                    kind="queue",
                    arn=other,
                    events=("s3:ObjectCreated:Put", "s3:ObjectRemoved:*"),
                    filter_prefix="other/",
                    filter_suffix=".gz",
                ),
                NotificationEntry(id="audit", kind="topic", arn=topic, events=("s3:ObjectRemoved:*",)),
            ),
        ),
        BucketState("acme-empty"),  # there, nothing to keep; acme-missing does not exist
    )


@pytest.mark.usefixtures("moto")
def test_locally_a_bucket_is_a_stand_in_only_with_the_deployments_tag() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for bucket, tags in (
        ("acme-stand-in", [{"Key": STAND_IN_TAG, "Value": "acme"}]),
        ("acme-other-stand-in", [{"Key": STAND_IN_TAG, "Value": "other"}]),
        ("acme-tagged", [{"Key": "team", "Value": "x"}]),
        ("acme-untagged", []),
    ):
        s3.create_bucket(Bucket=bucket)
        if tags:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})

    states = read_bucket_states(
        s3,
        ["acme-stand-in", "acme-other-stand-in", "acme-tagged", "acme-untagged"],
        "acme",
        MODULES,
        local=True,
    )

    assert [state.stand_in for state in states] == [True, False, False, False]


def test_eventbridge_delivery_is_read_from_its_configuration() -> None:
    # moto keeps EventBridgeConfiguration but does not return it (5.2): S3's own answer is read here
    class Answers:
        exceptions = boto3.client("s3", region_name=REGION).exceptions

        def get_bucket_notification_configuration(self, Bucket: str) -> dict[str, Any]:
            return {"EventBridgeConfiguration": {}, "QueueConfigurations": []}

    (state,) = read_bucket_states(Answers(), ["acme-data"], "acme", MODULES, local=False)

    assert state == BucketState("acme-data", eventbridge=True)


def test_a_bucket_that_cannot_be_read_stops_the_deploy_naming_it_and_the_permission() -> None:
    class Refusing:
        exceptions = boto3.client("s3", region_name=REGION).exceptions

        def get_bucket_notification_configuration(self, Bucket: str) -> dict[str, Any]:
            error = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
            raise ClientError(error, "GetBucketNotificationConfiguration")  # type: ignore[arg-type]

    with pytest.raises(NotificationReadError, match=r"acme-a \(AccessDenied\), acme-b \(AccessDenied\).*"
                       r"s3:GetBucketNotification"):  # fmt: skip
        read_bucket_states(Refusing(), ["acme-a", "acme-b"], "acme", MODULES, local=False)


def test_filter_rule_names_are_read_in_either_case() -> None:
    configuration = {
        "LambdaFunctionConfigurations": [
            {
                "Id": "f",
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [{"Name": "Prefix", "Value": "a/"}, {"Name": "Suffix", "Value": ".x"}]
                    }
                },
            }
        ]
    }

    (entry,) = entries(configuration)

    assert (entry.kind, entry.filter_prefix, entry.filter_suffix) == ("function", "a/", ".x")
