"""The rule processor's template context: names, triggers, retries and its least-privilege policy."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from config_schemas.models import BucketKey
from streamalert.config import MissingBlockError
from streamalert_cli.processors import by_name
from streamalert_cli.terraform.context import DeployTarget, ModuleContext
from streamalert_cli.terraform.rule_processor_context import rule_processor_context
from tests.streamalert_cli.terraform.conftest import fixture_config

RULE = by_name("rule")


def statements(context: ModuleContext) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in context.function.policy["Statement"]}


def test_names_and_settings_come_from_the_prefix_and_the_block() -> None:
    context = rule_processor_context(RULE, fixture_config("all_processors"))

    function = context.function
    assert function.name == "acme_streamalert_rule_processor"
    assert function.handler == "apps.rule_processor.main.handler"
    assert (function.memory, function.timeout) == (256, 120)
    assert context.dead_letter_queue.name == "acme_streamalert_rule_processor_dlq"
    assert context.log_group.name == "/aws/lambda/acme_streamalert_rule_processor"


def test_s3_invocations_are_retried_twice_then_go_to_the_dead_letter_queue() -> None:
    assert rule_processor_context(RULE, fixture_config("all_processors")).async_invoke.max_retry_attempts == 2


def test_every_s3_source_is_a_function_notification_with_its_folder_as_filter() -> None:
    notifications = rule_processor_context(RULE, fixture_config("all_processors")).notifications

    assert [(n.bucket, n.filter_prefix, n.destination) for n in notifications] == [
        ("acme-cloudtrail-logs", "", "function"),
        ("acme-data", "cloudtrail/", "function"),
    ]


def test_each_input_bucket_of_this_account_may_invoke_the_function() -> None:
    permissions = rule_processor_context(RULE, fixture_config("all_processors")).s3_permissions

    assert [(p.source_arn, p.source_account) for p in permissions] == [
        ("arn:aws:s3:::acme-cloudtrail-logs", "123456789012"),
        ("arn:aws:s3:::acme-data", "123456789012"),
    ]
    assert len({p.statement_id for p in permissions}) == 2


def test_kinesis_mappings_report_item_failures_and_follow_enabled() -> None:
    config = fixture_config("all_processors")
    [first, second] = rule_processor_context(RULE, config).kinesis

    assert (first.name, second.name) == ("acme_other_stream", "acme_stream")
    assert first.arn == "arn:aws:kinesis:us-east-1:123456789012:stream/acme_other_stream"
    assert first.function_response_types == ("ReportBatchItemFailures",)
    assert 0 < first.max_retry_attempts <= 10
    assert first.enabled is True
    block = config.rule_processor
    assert block is not None
    disabled = replace(
        config, lambda_config=replace(config.lambda_config, rule_processor=replace(block, enabled=False))
    )
    assert {m.enabled for m in rule_processor_context(RULE, disabled).kinesis} == {False}


def test_the_local_target_is_flagged_for_stand_in_streams() -> None:
    config = fixture_config("all_processors")

    assert rule_processor_context(RULE, config, DeployTarget(local=True)).local is True
    assert rule_processor_context(RULE, config).local is False


def test_the_policy_grants_only_what_the_function_and_its_triggers_use() -> None:
    granted = statements(rule_processor_context(RULE, fixture_config("all_processors")))

    assert granted["ReadInputObjects"] == {
        "Sid": "ReadInputObjects",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::acme-cloudtrail-logs/*", "arn:aws:s3:::acme-data/cloudtrail/*"],
    }
    assert granted["SendAlerts"]["Action"] == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    assert granted["SendAlerts"]["Resource"] == ["arn:aws:sqs:us-east-1:123456789012:acme_streamalert_alerts"]
    assert granted["SendFailedEvents"]["Resource"] == [
        "arn:aws:sqs:us-east-1:123456789012:acme_streamalert_rule_processor_dlq"
    ]
    assert granted["ReadInputStreams"]["Resource"] == [
        "arn:aws:kinesis:us-east-1:123456789012:stream/acme_other_stream",
        "arn:aws:kinesis:us-east-1:123456789012:stream/acme_stream",
    ]
    assert "kinesis:ListStreams" not in granted["ReadInputStreams"]["Action"]
    for statement in granted.values():
        assert all("*" not in action for action in statement["Action"])
        assert all(resource.startswith("arn:aws:") for resource in statement["Resource"])


def test_without_kinesis_inputs_no_stream_is_readable() -> None:
    config = fixture_config("all_processors")
    block = config.rule_processor
    assert block is not None
    s3_only = replace(block, inputs=replace(block.inputs, kinesis=()))
    context = rule_processor_context(
        RULE, replace(config, lambda_config=replace(config.lambda_config, rule_processor=s3_only))
    )

    assert "ReadInputStreams" not in statements(context)
    assert context.kinesis == ()


TRAIL_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET_KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"


def with_configured_keys(*keys: BucketKey) -> Any:
    config = fixture_config("all_processors")
    block = config.rule_processor
    assert block is not None
    keyed = replace(block, inputs=replace(block.inputs, kms_keys=keys))
    return replace(config, lambda_config=replace(config.lambda_config, rule_processor=keyed))


def test_objects_are_decrypted_with_the_keys_of_the_input_buckets_only() -> None:
    config = with_configured_keys(BucketKey("acme-cloudtrail-logs", TRAIL_KEY))
    target = DeployTarget(
        local=False,
        input_keys=(
            BucketKey("acme-data", BUCKET_KEY),
            BucketKey("acme-cloudtrail-logs", TRAIL_KEY),
            BucketKey("acme-data-vpc-only", "arn:aws:kms:us-east-1:123456789012:key/other"),
        ),
    )

    granted = statements(rule_processor_context(RULE, config, target))

    assert granted["DecryptInputObjects"] == {
        "Sid": "DecryptInputObjects",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [TRAIL_KEY, BUCKET_KEY],
    }


def test_no_decrypt_without_a_key_nor_on_the_local_target() -> None:
    config = with_configured_keys(BucketKey("acme-cloudtrail-logs", TRAIL_KEY))
    local = DeployTarget(local=True, input_keys=(BucketKey("acme-data", BUCKET_KEY),))

    assert "DecryptInputObjects" not in statements(rule_processor_context(RULE, config, local))
    assert "DecryptInputObjects" not in statements(
        rule_processor_context(RULE, fixture_config("all_processors"))
    )


def test_a_config_without_the_block_is_refused() -> None:
    with pytest.raises(MissingBlockError, match=r"^lambda\.json has no rule_processor_config block"):
        rule_processor_context(RULE, fixture_config("basic"))
