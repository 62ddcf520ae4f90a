"""scripts/destroy: which resources a targeted destroy takes, and which it keeps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from streamalert_cli.destroy import HandBack, destroy_targets, hand_back_plan
from streamalert_cli.processors import by_name
from streamalert_cli.terraform.context import DeployTarget, shared_context
from streamalert_cli.terraform.notifications import BucketState, NotificationEntry
from tests.streamalert_cli.terraform.conftest import fixture_config

STATE = [
    "aws_s3_bucket.local_bucket_acme_firehose_data",
    "aws_s3_bucket_notification.bucket_acme_firehose_data",
    "aws_s3_bucket_notification.bucket_acme_streamalerts",
    "module.athena_refresh.aws_glue_catalog_database.streamalert",
    "module.athena_refresh.aws_glue_catalog_table.alerts",
    "module.athena_refresh.aws_lambda_alias.production",
    "module.athena_refresh.aws_lambda_function.refresh",
    "module.athena_refresh.aws_s3_bucket.alerts",
    "module.athena_refresh.aws_s3_bucket.results",
    "module.athena_refresh.aws_s3_bucket_public_access_block.alerts",
    "module.athena_refresh.aws_s3_bucket_server_side_encryption_configuration.alerts",
    "module.athena_refresh.aws_sqs_queue.notifications",
    "module.rule_processor.aws_lambda_function.rules",
]


def deployment(local: bool, buckets: tuple[BucketState, ...] = ()) -> Any:
    config = fixture_config("basic")
    athena = by_name("athena")
    context = athena.module_context(config)
    return SimpleNamespace(
        selected=(athena,),
        module_contexts={athena.module: context},
        shared=shared_context(config, DeployTarget(local=local, buckets=buckets), [context]),
    )


def test_the_data_and_catalog_are_kept() -> None:
    targets, kept = destroy_targets(deployment(local=True), STATE)

    assert kept == [
        "module.athena_refresh.aws_glue_catalog_database.streamalert",
        "module.athena_refresh.aws_glue_catalog_table.alerts",
        "module.athena_refresh.aws_s3_bucket.alerts",
        "module.athena_refresh.aws_s3_bucket_public_access_block.alerts",
        "module.athena_refresh.aws_s3_bucket_server_side_encryption_configuration.alerts",
    ]
    assert targets == [
        "aws_s3_bucket.local_bucket_acme_firehose_data",
        "aws_s3_bucket_notification.bucket_acme_firehose_data",
        "aws_s3_bucket_notification.bucket_acme_streamalerts",
        "module.athena_refresh.aws_lambda_alias.production",
        "module.athena_refresh.aws_lambda_function.refresh",
        "module.athena_refresh.aws_s3_bucket.results",
        "module.athena_refresh.aws_sqs_queue.notifications",
    ]


def test_other_processors_are_never_targeted() -> None:
    targets, kept = destroy_targets(deployment(local=False), STATE)

    assert not any(address.startswith("module.rule_processor.") for address in targets + kept)
    assert "aws_s3_bucket.local_bucket_acme_firehose_data" not in targets


FOREIGN = NotificationEntry(
    id="other-team",
    kind="queue",
    arn="arn:aws:sqs:us-east-1:123456789012:other-team",
    events=("s3:ObjectCreated:*",),
    filter_prefix="other/",
)
# Not stand-ins: the data bucket was there before the deployment
THERE_BEFORE = (BucketState("acme-firehose-data", kept=(FOREIGN,)), BucketState("acme.streamalerts"))
STATE_WITHOUT_STAND_IN = [a for a in STATE if not a.startswith("aws_s3_bucket.local_")]


def test_a_bucket_with_entries_of_others_is_handed_back_not_destroyed() -> None:
    run = deployment(local=False, buckets=THERE_BEFORE)

    hand_back = hand_back_plan(run, STATE_WITHOUT_STAND_IN)
    targets, _ = destroy_targets(run, STATE_WITHOUT_STAND_IN, hand_back)

    assert hand_back == HandBack(
        apply=("aws_s3_bucket_notification.bucket_acme_firehose_data",),
        forget=("aws_s3_bucket_notification.bucket_acme_firehose_data",),
    )
    assert "aws_s3_bucket_notification.bucket_acme_firehose_data" not in targets
    # a configuration holding only the deployment's entries is simply destroyed
    assert "aws_s3_bucket_notification.bucket_acme_streamalerts" in targets


def test_eventbridge_delivery_alone_is_handed_back_too() -> None:
    buckets = (BucketState("acme-firehose-data", eventbridge=True), BucketState("acme.streamalerts"))

    hand_back = hand_back_plan(deployment(local=False, buckets=buckets), STATE_WITHOUT_STAND_IN)

    assert hand_back.apply == ("aws_s3_bucket_notification.bucket_acme_firehose_data",)


def test_a_local_stand_in_is_destroyed_with_its_notification() -> None:
    run = deployment(local=True)

    assert hand_back_plan(run, STATE) == HandBack()
    targets, _ = destroy_targets(run, STATE, hand_back_plan(run, STATE))
    assert "aws_s3_bucket_notification.bucket_acme_firehose_data" in targets
    assert "aws_s3_bucket.local_bucket_acme_firehose_data" in targets


def test_a_bucket_another_processor_still_reads_is_written_again_and_stays_in_the_state() -> None:
    config = fixture_config("all_processors")
    athena, rule = by_name("athena"), by_name("rule")
    contexts = {p.module: p.module_context(config) for p in (athena, rule)}
    shared = shared_context(config, DeployTarget(local=False), list(contexts.values()))
    shared_buckets = [n for n in shared.notifications if set(n.modules) == {athena.module, rule.module}]
    run = SimpleNamespace(selected=(athena,), module_contexts=contexts, shared=shared)
    addresses = [f"aws_s3_bucket_notification.{n.resource}" for n in shared.notifications]

    hand_back = hand_back_plan(run, addresses)

    assert shared_buckets
    for notification in shared_buckets:
        assert f"aws_s3_bucket_notification.{notification.resource}" in hand_back.apply
        assert f"aws_s3_bucket_notification.{notification.resource}" not in hand_back.forget
