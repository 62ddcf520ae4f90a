"""An EventBridge source end to end on moto: S3 -> EventBridge (the rule as the deploy renders it) -> the
refresh queue -> the refresh, which registers the object's partition (moto's S3 -> EventBridge -> SQS
delivery is real)."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3

from apps.athena_refresh.refresher import PartitionRefresher
from streamalert.deadline import Deadline
from streamalert_cli.terraform.notifications import eventbridge_pattern, eventbridge_rule_name
from tests.apps.athena_refresh.conftest import PREFIX, Deployment
from tests.helpers import REGION, FakeContext


def test_an_object_of_an_eventbridge_bucket_reaches_the_queue_and_its_partition_is_registered(
    deployment: Deployment, make_refresher: Callable[..., PartitionRefresher]
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    s3.create_bucket(Bucket="acme-data")
    s3.put_bucket_notification_configuration(
        Bucket="acme-data", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    queue_arn = deployment.sqs.get_queue_attributes(
        QueueUrl=deployment.queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    rule = eventbridge_rule_name(PREFIX, "acme-data", "cloudtrail/")
    events.put_rule(Name=rule, EventPattern=json.dumps(eventbridge_pattern("acme-data", "cloudtrail/")))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": queue_arn}])

    s3.put_object(Bucket="acme-data", Key="cloudtrail/dt=2024-01-02-03/a b+c.json", Body=b"{}")
    s3.put_object(Bucket="acme-data", Key="vpcflow/dt=2024-01-02-03/x.json", Body=b"{}")  # not the rule's
    assert deployment.messages_left() == 1

    result = make_refresher().run_scheduled(Deadline.from_context(FakeContext()))

    assert deployment.partitions("cloudtrail") == {
        ("2024-01-02-03",): "s3://acme-data/cloudtrail/dt=2024-01-02-03/"
    }
    assert deployment.messages_left() == 0
    assert result["messages_received"] == 1
