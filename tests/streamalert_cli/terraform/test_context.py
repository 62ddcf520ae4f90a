"""The template contexts, built from configs and checked without rendering."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from config_schemas.models import Source
from streamalert_cli.processors import by_name
from streamalert_cli.terraform.alert_processor_context import alert_processor_context
from streamalert_cli.terraform.athena_refresh_context import athena_refresh_context
from streamalert_cli.terraform.context import (
    FUNCTION_DESTINATION,
    Arns,
    BucketSubscription,
    DeployTarget,
    ModuleContext,
    NotificationConflictError,
    aws_partition,
    iam_literal,
    list_bucket_statements,
    object_arns,
    prefixes_by_bucket,
    shared_context,
    source_bucket,
    state_location,
)
from streamalert_cli.terraform.rule_processor_context import rule_processor_context
from tests.streamalert_cli.terraform.conftest import fixture_config

ARNS = Arns(fixture_config("basic"))
ATHENA, RULE, ALERT = by_name("athena"), by_name("rule"), by_name("alert")


def statements(context: ModuleContext) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in context.function.policy["Statement"]}


def rule_processor_wanting(filter_prefix: str) -> ModuleContext:
    """A rule processor's context whose one S3 input is ``acme-firehose-data/<filter_prefix>``."""
    return replace(
        rule_processor_context(RULE, fixture_config("all_processors")),
        notifications=(
            BucketSubscription("acme-firehose-data", "rule_processor:x", filter_prefix, FUNCTION_DESTINATION),
        ),
    )


def test_names_carry_the_prefix() -> None:
    context = athena_refresh_context(ATHENA, fixture_config("basic"))

    assert context.function.name == "acme_streamalert_athena_partition_refresh"
    assert context.function.alias == "production"
    assert context.queue.name == "acme_streamalert_athena_data_bucket_notifications"
    assert context.queue.dead_letter_name == "acme_streamalert_athena_data_bucket_notifications_dlq"
    assert context.alerts_bucket == "acme.streamalerts"
    assert context.workgroup.name == "acme_streamalert"
    assert context.log_group.name == "/aws/lambda/acme_streamalert_athena_partition_refresh"


def test_function_settings_come_from_the_config() -> None:
    function = athena_refresh_context(ATHENA, fixture_config("athena_modes")).function

    assert (function.memory, function.timeout) == (512, 300)
    assert function.handler == "apps.athena_refresh.main.handler"
    assert function.runtime.startswith("python3.")


def test_queue_keeps_messages_14_days_and_hides_them_six_function_timeouts() -> None:
    queue = athena_refresh_context(ATHENA, fixture_config("athena_modes")).queue

    assert queue.retention_seconds == 14 * 24 * 3600
    assert queue.visibility_timeout == 6 * 300
    assert queue.max_receive_count == 5


def test_only_the_configured_buckets_of_this_account_may_send_to_the_queue() -> None:
    [statement] = athena_refresh_context(ATHENA, fixture_config("athena_modes")).queue.policy["Statement"]

    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == (
        "arn:aws-us-gov:sqs:us-gov-west-1:210987654321:beta-team_streamalert_athena_data_bucket_notifications"
    )
    assert statement["Condition"] == {
        "ArnLike": {
            "aws:SourceArn": [
                "arn:aws-us-gov:s3:::beta-logs",
                "arn:aws-us-gov:s3:::beta-other-logs",
                "arn:aws-us-gov:s3:::beta-team.streamalerts",
            ]
        },
        "StringEquals": {"aws:SourceAccount": "210987654321"},
    }


def test_disabled_function_keeps_its_schedule_switched_off() -> None:
    assert athena_refresh_context(ATHENA, fixture_config("athena_modes")).schedule.state == "DISABLED"
    assert athena_refresh_context(ATHENA, fixture_config("basic")).schedule.state == "ENABLED"


def test_schedule_uses_the_refresh_interval() -> None:
    schedule = athena_refresh_context(ATHENA, fixture_config("athena_modes")).schedule

    assert schedule.expression == "cron(0/15 * * * ? *)"


def test_every_source_is_notified_with_its_prefix_as_filter() -> None:
    notifications = athena_refresh_context(ATHENA, fixture_config("athena_modes")).notifications

    assert [(n.bucket, n.filter_prefix) for n in notifications] == [
        ("beta-logs", "dns/"),
        ("beta-logs", "vpc/flow/"),
        ("beta-other-logs", ""),
        ("beta-team.streamalerts", ""),
    ]


def test_no_wildcard_actions_or_resources_in_the_function_policy() -> None:
    for name in ("basic", "athena_modes", "custom_settings"):
        for statement in athena_refresh_context(ATHENA, fixture_config(name)).function.policy["Statement"]:
            assert all("*" not in action for action in statement["Action"])
            assert "*" not in statement["Resource"]
            assert all(resource.startswith("arn:") for resource in statement["Resource"])


def test_glue_only_configs_get_no_athena_or_data_access() -> None:
    granted = statements(athena_refresh_context(ATHENA, fixture_config("custom_settings")))

    assert set(granted) == {"WriteOwnLogs", "DrainNotificationQueue", "ReadTablesAndRegisterPartitions"}
    assert granted["DrainNotificationQueue"]["Action"] == [
        "sqs:DeleteMessage",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
    ]


def test_athena_modes_get_the_workgroup_data_reads_and_results_bucket() -> None:
    granted = statements(athena_refresh_context(ATHENA, fixture_config("athena_modes")))

    assert granted["RunRefreshStatements"]["Resource"] == [
        "arn:aws-us-gov:athena:us-gov-west-1:210987654321:workgroup/beta-team_streamalert"
    ]
    assert "athena:StartQueryExecution" in granted["RunRefreshStatements"]["Action"]
    assert granted["ReadDataObjects"]["Resource"] == [
        "arn:aws-us-gov:s3:::beta-logs/dns/*",
        "arn:aws-us-gov:s3:::beta-logs/vpc/flow/*",
        "arn:aws-us-gov:s3:::beta-other-logs/*",
        "arn:aws-us-gov:s3:::beta-team.streamalerts/*",
    ]
    assert granted["WriteQueryResults"]["Resource"] == [
        "arn:aws-us-gov:s3:::beta-team-athena-query-results/*"
    ]


def test_catalog_actions_name_only_the_configured_tables() -> None:
    granted = statements(athena_refresh_context(ATHENA, fixture_config("athena_modes")))

    assert granted["ReadTablesAndRegisterPartitions"]["Resource"] == [
        "arn:aws-us-gov:glue:us-gov-west-1:210987654321:catalog",
        "arn:aws-us-gov:glue:us-gov-west-1:210987654321:database/beta_team_streamalert",
        "arn:aws-us-gov:glue:us-gov-west-1:210987654321:table/beta_team_streamalert/alerts",
        "arn:aws-us-gov:glue:us-gov-west-1:210987654321:table/beta_team_streamalert/dns",
        "arn:aws-us-gov:glue:us-gov-west-1:210987654321:table/beta_team_streamalert/other",
        "arn:aws-us-gov:glue:us-gov-west-1:210987654321:table/beta_team_streamalert/vpc_flow",
    ]


def test_listing_a_bucket_read_by_folders_stays_in_them() -> None:
    granted = statements(athena_refresh_context(ATHENA, fixture_config("athena_modes")))

    # beta-logs is read as beta-logs/vpc/flow and beta-logs/dns; the two others whole
    assert granted["ListDataFolders1"] == {
        "Sid": "ListDataFolders1",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": ["arn:aws-us-gov:s3:::beta-logs"],
        "Condition": {
            "StringLike": {"s3:prefix": ["dns", "dns/", "dns/*", "vpc/flow", "vpc/flow/", "vpc/flow/*"]}
        },
    }
    assert granted["ListDataBuckets"]["Resource"] == [
        "arn:aws-us-gov:s3:::beta-other-logs",
        "arn:aws-us-gov:s3:::beta-team.streamalerts",
    ]
    assert "Condition" not in granted["ListDataBuckets"]
    assert granted["LocateDataBuckets"]["Action"] == ["s3:GetBucketLocation"]
    listed = [s for s in granted.values() if "s3:ListBucket" in s["Action"]]
    assert [s["Sid"] for s in listed] == ["ListDataBuckets", "ListDataFolders1", "ListQueryResults"]


def test_mixed_configs_read_only_the_data_of_athena_routes() -> None:
    granted = statements(athena_refresh_context(ATHENA, fixture_config("basic")))

    assert granted["ReadDataObjects"]["Resource"] == ["arn:aws:s3:::acme-firehose-data/cloudtrail/*"]
    assert granted["LocateDataBuckets"]["Resource"] == ["arn:aws:s3:::acme-firehose-data"]
    assert granted["ListDataFolders1"]["Resource"] == ["arn:aws:s3:::acme-firehose-data"]
    assert "ListDataBuckets" not in granted


def test_a_bucket_read_whole_and_by_a_folder_is_listed_and_read_whole() -> None:
    sources = [Source("logs", "a/b"), Source("logs"), Source("other", "x"), Source("other", "w")]

    assert prefixes_by_bucket(sources) == {"logs": (), "other": ("w", "x")}
    assert object_arns(ARNS, sources) == [
        "arn:aws:s3:::logs/*",
        "arn:aws:s3:::other/w/*",
        "arn:aws:s3:::other/x/*",
    ]
    whole, folders = list_bucket_statements("ListData", ARNS, sources)
    assert (whole["Sid"], whole["Resource"]) == ("ListDataBuckets", ["arn:aws:s3:::logs"])
    assert folders["Resource"] == ["arn:aws:s3:::other"]
    assert folders["Condition"] == {"StringLike": {"s3:prefix": ["w", "w/", "w/*", "x", "x/", "x/*"]}}


def test_iam_wildcards_and_variables_of_a_folder_name_are_matched_as_they_are() -> None:
    sources = [Source("logs", "${jndi}/a*b?")]

    assert iam_literal("${jndi}/a*b?") == "${$}{jndi}/a${*}b${?}"
    assert object_arns(ARNS, sources) == ["arn:aws:s3:::logs/${$}{jndi}/a${*}b${?}/*"]
    [statement] = list_bucket_statements("ListData", ARNS, sources)
    assert statement["Condition"]["StringLike"]["s3:prefix"][-1] == "${$}{jndi}/a${*}b${?}/*"


def test_protected_resources_are_the_data_and_catalog() -> None:
    protected = athena_refresh_context(ATHENA, fixture_config("basic")).protected

    assert "aws_s3_bucket.alerts" in protected
    assert "aws_glue_catalog_database.streamalert" in protected
    assert "aws_glue_catalog_table.alerts" in protected
    assert "aws_s3_bucket.results" not in protected


def test_one_notification_per_bucket_merges_its_sources() -> None:
    config = fixture_config("athena_modes")
    shared = shared_context(config, DeployTarget(local=False), [athena_refresh_context(ATHENA, config)])

    by_bucket = {n.bucket: n for n in shared.notifications}
    assert sorted(by_bucket) == ["beta-logs", "beta-other-logs", "beta-team.streamalerts"]
    assert [q.filter_prefix for q in by_bucket["beta-logs"].queues] == ["dns/", "vpc/flow/"]
    assert by_bucket["beta-logs"].resource == "bucket_beta_logs"
    assert by_bucket["beta-logs"].modules == ("athena_refresh",)
    assert all(q.events == ("s3:ObjectCreated:*",) for n in shared.notifications for q in n.queues)


def test_notifications_of_several_modules_merge_on_one_bucket() -> None:
    config = fixture_config("basic")
    athena = athena_refresh_context(ATHENA, config)
    other = rule_processor_wanting("x/")
    shared = shared_context(config, DeployTarget(local=False), [athena, other])

    [notification] = [n for n in shared.notifications if n.bucket == "acme-firehose-data"]
    assert notification.modules == ("athena_refresh", "rule_processor")
    assert [(q.module, q.output) for q in notification.queues] == [("athena_refresh", "queue_arn")]
    assert [(f.module, f.output) for f in notification.functions] == [
        ("rule_processor", "notified_function_arn")
    ]


@pytest.mark.parametrize("prefix", ["", "cloudtrail/", "cloudtrail/2024/"])
def test_overlapping_filters_of_two_processors_on_one_bucket_are_refused(prefix: str) -> None:
    config = fixture_config("basic")
    other = rule_processor_wanting(prefix)

    with pytest.raises(
        NotificationConflictError, match="bucket acme-firehose-data: the athena_refresh source "
    ):
        shared_context(config, DeployTarget(local=False), [athena_refresh_context(ATHENA, config), other])


def test_disjoint_folders_of_one_bucket_share_its_notification() -> None:
    config = fixture_config("all_processors")
    modules = [
        athena_refresh_context(ATHENA, config),
        rule_processor_context(RULE, config),
        alert_processor_context(ALERT, config),
    ]

    [notification] = [
        n
        for n in shared_context(config, DeployTarget(local=False), modules).notifications
        if n.bucket == "acme-data"
    ]
    assert [q.filter_prefix for q in notification.queues] == ["vpc/"]
    assert [f.filter_prefix for f in notification.functions] == ["cloudtrail/"]


def test_local_target_stands_in_for_data_buckets_it_does_not_create() -> None:
    config = fixture_config("basic")
    shared = shared_context(config, DeployTarget(local=True), [athena_refresh_context(ATHENA, config)])

    assert [s.bucket for s in shared.stand_in_buckets] == ["acme-firehose-data"]
    assert (
        shared_context(
            config, DeployTarget(local=False), [athena_refresh_context(ATHENA, config)]
        ).stand_in_buckets
        == ()
    )


def test_state_and_source_buckets_default_from_the_prefix() -> None:
    config = fixture_config("basic")

    assert state_location(config) == ("acme-streamalert-terraform-state", "streamalert/terraform.tfstate")
    assert source_bucket(config) == "acme-streamalert-source"


def test_state_and_source_buckets_from_global_json() -> None:
    config = fixture_config("custom_settings")

    assert state_location(config) == ("prod-shared-terraform-state", "security/streamalert.tfstate")
    assert source_bucket(config) == "prod-lambda-artifacts"


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
    ],
)
def test_arn_partition_of_a_region(region: str, partition: str) -> None:
    assert aws_partition(region) == partition
