"""The data buckets' notifications: which entries are the deployment's, what is kept of others, which
overlaps are refused, and the EventBridge rules of buckets read through EventBridge."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from config_schemas.models import BucketSettings, Config, NotificationMode
from streamalert.s3_events import S3Object, read_notification
from streamalert_cli.processors import by_name, deployable
from streamalert_cli.terraform import render
from streamalert_cli.terraform.athena_refresh_context import athena_refresh_context
from streamalert_cli.terraform.context import DeployTarget, shared_context
from streamalert_cli.terraform.deployer_policy import deployer_policy
from streamalert_cli.terraform.notifications import (
    BucketState,
    BucketSubscription,
    Destination,
    ModuleSubscriptions,
    NotificationConflictError,
    NotificationEntry,
    bucket_notifications,
    destinations_overlap,
    eventbridge_pattern,
    eventbridge_rule_name,
    is_own_entry,
)
from streamalert_cli.terraform.runner import Terraform
from tests.helpers import ACCOUNT_ID, REGION
from tests.streamalert_cli.terraform.conftest import fixture_config

MODULES = {"athena_refresh", "rule_processor", "alert_processor"}
FOREIGN_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:other-team"
FOREIGN_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:other-topic"
FOREIGN_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:other-function"


@pytest.mark.parametrize(
    ("entry_id", "ours"),
    [
        ("acme_streamalert:athena_refresh:acme-data/cloudtrail", True),
        ("acme_streamalert:anything", True),
        ("athena_refresh:acme-data/cloudtrail", True),  # the ids before the namespace
        ("rule_processor:acme-data", True),
        ("acme-dev_streamalert:athena_refresh:acme-data", False),  # another deployment's
        ("other_streamalert:athena_refresh:acme-data", False),
        ("athena_refresh", False),
        ("backup-copier", False),
        ("tf-s3-queue-20240101", False),
        ("", False),
    ],
)
def test_an_entry_is_the_deployments_by_its_id_alone(entry_id: str, ours: bool) -> None:
    assert is_own_entry(entry_id, "acme", MODULES) is ours


def entry(
    events: tuple[str, ...] = ("s3:ObjectCreated:*",), prefix: str = "", suffix: str = "", module: str = ""
) -> Destination:
    return Destination(
        id="e", kind="queue", events=events, filter_prefix=prefix, filter_suffix=suffix, module=module
    )


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        (entry(), entry(), True),
        (entry(prefix="logs/"), entry(prefix="logs/a/"), True),
        (entry(prefix="logs/"), entry(prefix="logsx/"), False),
        (entry(prefix="logs/"), entry(), True),
        (entry(suffix=".gz"), entry(suffix=".json"), False),
        (entry(suffix=".gz"), entry(suffix="s.gz"), True),
        (entry(prefix="a/", suffix=".gz"), entry(prefix="a/b/", suffix=".json"), False),
        (entry(events=("s3:ObjectCreated:Put",)), entry(), True),
        (entry(events=("s3:ObjectCreated:Put",)), entry(events=("s3:ObjectCreated:Copy",)), False),
        (entry(events=("s3:ObjectRemoved:*",)), entry(), False),
        (entry(events=("s3:ObjectRemoved:*", "s3:ObjectCreated:Post")), entry(), True),
    ],
)
def test_overlap_is_s3s_rule_events_prefixes_and_suffixes(
    first: Destination, second: Destination, overlap: bool
) -> None:
    assert destinations_overlap(first, second) is overlap
    assert destinations_overlap(second, first) is overlap


def refresh_on(bucket: str, prefix: str = "") -> ModuleSubscriptions:
    subscription = BucketSubscription(
        bucket=bucket, id=f"athena_refresh:{bucket}/{prefix}", filter_prefix=prefix, destination="queue"
    )
    return ModuleSubscriptions("athena_refresh", (subscription,))


def foreign(
    kind: str = "queue", arn: str = FOREIGN_QUEUE, prefix: str = "other/", suffix: str = ""
) -> NotificationEntry:
    return NotificationEntry(
        id="other-team", kind=kind, arn=arn, events=("s3:ObjectCreated:*",), filter_prefix=prefix,
        filter_suffix=suffix,
    )  # fmt: skip


def test_entries_of_others_are_kept_beside_the_deployments() -> None:
    kept = (
        foreign(),
        replace(foreign("topic", FOREIGN_TOPIC, "audit/"), id="audit"),
        replace(foreign("function", FOREIGN_FUNCTION, "", ".csv"), id="csv", events=("s3:ObjectRemoved:*",)),
    )
    states = {"acme-data": BucketState("acme-data", kept=kept)}

    (notification,), rules = bucket_notifications("acme", [refresh_on("acme-data", "logs/")], states, ())

    assert rules == ()
    assert [d.id for d in notification.ours] == ["acme_streamalert:athena_refresh:acme-data/logs/"]
    assert [(d.id, d.kind, d.arn) for d in notification.kept] == [
        ("other-team", "queue", FOREIGN_QUEUE),
        ("audit", "topic", FOREIGN_TOPIC),
        ("csv", "function", FOREIGN_FUNCTION),
    ]
    assert notification.kept[2].filter_suffix == ".csv"
    assert not notification.eventbridge


def test_an_entry_of_another_consumer_overlapping_ours_is_refused_naming_both_and_the_ways_out() -> None:
    states = {"acme-data": BucketState("acme-data", kept=(foreign(prefix="logs/"),))}

    with pytest.raises(NotificationConflictError) as refused:
        bucket_notifications("acme", [refresh_on("acme-data", "logs/cloudtrail/")], states, ())

    message = str(refused.value)
    assert f"\"other-team\" (queue {FOREIGN_QUEUE}, s3:ObjectCreated:*, prefix 'logs/')" in message
    assert "athena_refresh source acme-data/logs/cloudtrail" in message
    assert "nothing was changed" in message
    assert "narrow one of them to a prefix" in message
    assert '"acme-data": {"notifications": "eventbridge"}' in message


def test_overlapping_entries_of_others_alone_are_theirs_not_refused() -> None:
    kept = (foreign(), replace(foreign(), id="second", arn=FOREIGN_TOPIC, kind="topic"))
    states = {"acme-data": BucketState("acme-data", kept=kept)}

    (notification,), _ = bucket_notifications("acme", [refresh_on("acme-data", "logs/")], states, ())

    assert len(notification.kept) == 2


def test_an_eventbridge_bucket_keeps_its_entries_gets_none_of_ours_and_a_rule_per_source() -> None:
    states = {"acme-data": BucketState("acme-data", kept=(foreign(prefix=""),))}
    modules = [refresh_on("acme-data", "logs/"), refresh_on("acme-data", "flow/")]

    (notification,), rules = bucket_notifications("acme", modules, states, {"acme-data"})

    assert notification.eventbridge
    assert notification.ours == ()  # and no overlap with the foreign entry of the whole bucket
    assert [d.id for d in notification.kept] == ["other-team"]
    assert [rule.name for rule in rules] == [
        eventbridge_rule_name("acme", "acme-data", "logs/"),
        eventbridge_rule_name("acme", "acme-data", "flow/"),
    ]
    assert rules[0].pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["acme-data"]}, "object": {"key": [{"prefix": "logs/"}]}},
    }
    assert all(len(rule.name) <= 64 and rule.name.startswith("acme_streamalert_") for rule in rules)


def test_eventbridge_delivery_already_on_stays_on() -> None:
    states = {"acme-data": BucketState("acme-data", eventbridge=True)}

    (notification,), _ = bucket_notifications("acme", [refresh_on("acme-data")], states, ())

    assert notification.eventbridge
    assert [d.module for d in notification.ours] == ["athena_refresh"]


def test_a_function_on_an_eventbridge_bucket_is_refused() -> None:
    rule = ModuleSubscriptions(
        "rule_processor", (BucketSubscription("acme-data", "rule_processor:acme-data", "", "function"),)
    )
    with pytest.raises(NotificationConflictError, match='set "notifications": "s3" for the bucket'):
        bucket_notifications("acme", [rule], {}, {"acme-data"})


def test_withdrawn_modules_lose_their_entries_and_the_others_stay() -> None:
    states = {"acme-data": BucketState("acme-data", kept=(foreign(),))}

    (notification,), _ = bucket_notifications(
        "acme", [refresh_on("acme-data", "logs/")], states, (), withdrawn=("athena_refresh",)
    )

    assert notification.ours == ()
    assert [d.id for d in notification.kept] == ["other-team"]
    assert notification.modules == ("athena_refresh",)  # still the refresh's to target


def with_eventbridge(config: Config, *buckets: str) -> Config:
    settings = tuple(BucketSettings(name, NotificationMode.EVENTBRIDGE) for name in buckets)
    return replace(config, global_config=replace(config.global_config, buckets=settings))


KEPT_TARGET = DeployTarget(
    local=False,
    buckets=(
        BucketState(
            "acme-firehose-data",
            kept=(
                foreign(prefix="other/", suffix=".gz"),
                replace(foreign("topic", FOREIGN_TOPIC, "audit/"), id="audit"),
                replace(foreign("function", FOREIGN_FUNCTION, "csv/"), id="csv"),
            ),
        ),
    ),
)


def test_kept_entries_are_rendered_with_their_literal_destinations() -> None:
    config = fixture_config("basic")
    main_tf = render.render_files(config, KEPT_TARGET, deployable(config))[Path("main.tf")]

    assert f'queue_arn     = "{FOREIGN_QUEUE}"' in main_tf
    assert 'filter_suffix = ".gz"' in main_tf
    assert f'topic_arn     = "{FOREIGN_TOPIC}"' in main_tf
    assert f'lambda_function_arn = "{FOREIGN_FUNCTION}"' in main_tf
    assert "queue_arn     = module.athena_refresh.queue_arn" in main_tf
    assert "eventbridge" not in main_tf


def test_an_eventbridge_bucket_renders_delivery_a_rule_and_a_target_to_the_queue() -> None:
    config = with_eventbridge(fixture_config("basic"), "acme-firehose-data")
    main_tf = render.render_files(config, KEPT_TARGET, deployable(config))[Path("main.tf")]
    name = eventbridge_rule_name("acme", "acme-firehose-data", "cloudtrail/")

    assert "eventbridge = true" in main_tf
    assert "acme_streamalert:athena_refresh:acme-firehose-data/cloudtrail" not in main_tf
    assert "acme_streamalert:athena_refresh:acme.streamalerts" in main_tf  # the other bucket: S3
    assert f'name          = "{name}"' in main_tf
    assert '"detail-type" = ["Object Created"]' in main_tf
    assert '"prefix" = "cloudtrail/"' in main_tf
    assert "arn       = module.athena_refresh.queue_arn" in main_tf


def test_rendered_kept_entries_and_eventbridge_rules_pass_terraform_validate(
    terraform_binary: str, tmp_path: Path
) -> None:
    config = with_eventbridge(fixture_config("all_processors"), "acme-data")
    config = replace(  # the rule processor may not read an EventBridge bucket: give it its own
        config,
        lambda_config=replace(
            config.lambda_config,
            rule_processor=replace(
                config.lambda_config.rule_processor,  # type: ignore[arg-type]
                inputs=replace(config.lambda_config.rule_processor.inputs, s3=()),  # type: ignore[union-attr]
            ),
        ),
    )
    target = replace(KEPT_TARGET, buckets=(replace(KEPT_TARGET.buckets[0], bucket="acme-data"),))
    render.write_files(render.render_files(config, target, deployable(config)), tmp_path)
    terraform = Terraform.locate(tmp_path)
    terraform.fmt()
    terraform.run("init", "-backend=false", "-input=false", "-no-color")
    result = subprocess.run(
        [terraform_binary, "validate", "-no-color"],
        cwd=tmp_path,
        env=terraform.env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_queue_lets_s3_send_for_s3_buckets_and_events_for_the_rules() -> None:
    config = with_eventbridge(fixture_config("basic"), "acme-firehose-data")
    context = athena_refresh_context(by_name("athena"), config)

    s3_statement, events_statement = context.queue.policy["Statement"]
    assert s3_statement["Condition"]["ArnLike"]["aws:SourceArn"] == ["arn:aws:s3:::acme.streamalerts"]
    assert events_statement["Principal"] == {"Service": "events.amazonaws.com"}
    rule = eventbridge_rule_name("acme", "acme-firehose-data", "cloudtrail/")
    assert events_statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"
    ]


def test_the_deployer_may_manage_the_eventbridge_rules() -> None:
    config = with_eventbridge(fixture_config("basic"), "acme-firehose-data")
    rule = eventbridge_rule_name("acme", "acme-firehose-data", "cloudtrail/")

    statements = deployer_policy(config)["Statement"]

    put_rule = [s for s in statements if "events:PutRule" in s["Action"]]
    assert any(f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}" in s["Resource"] for s in put_rule)


@pytest.mark.usefixtures("moto")
def test_the_rendered_pattern_routes_moto_s3_events_of_the_source_alone_to_the_queue() -> None:
    """S3 -> EventBridge -> SQS on moto with the rule as rendered: objects of the source arrive as
    EventBridge events the refresh reads, their keys as they are; other folders do not arrive."""
    config = with_eventbridge(fixture_config("basic"), "acme-firehose-data")
    (rule,) = shared_context(
        config, DeployTarget(local=True), [athena_refresh_context(by_name("athena"), config)]
    ).event_rules
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    s3.create_bucket(Bucket="acme-firehose-data")
    url = sqs.create_queue(QueueName="refresh")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket="acme-firehose-data", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    events.put_rule(Name=rule.name, EventPattern=json.dumps(rule.pattern))
    events.put_targets(Rule=rule.name, Targets=[{"Id": "queue", "Arn": queue_arn}])

    key = "cloudtrail/2024/01/02/03/a b+c.json.gz"
    s3.put_object(Bucket="acme-firehose-data", Key=key, Body=b"{}")
    s3.put_object(Bucket="acme-firehose-data", Key="elsewhere/x.json", Body=b"{}")

    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert [read_notification(body).objects for body in bodies] == [(S3Object("acme-firehose-data", key),)]
    assert eventbridge_pattern("acme-firehose-data", "cloudtrail/") == rule.pattern
