"""The alert processor's template context: its queue, the event source mapping and its policy."""

from __future__ import annotations

import pytest

from streamalert.config import MissingBlockError
from streamalert_cli.processors import by_name
from streamalert_cli.terraform.alert_processor_context import SqsEventSourceContext, alert_processor_context
from streamalert_cli.terraform.context import DeployTarget
from tests.streamalert_cli.terraform.conftest import fixture_config

ALERT = by_name("alert")


def test_the_alerts_queue_keeps_14_days_hides_six_timeouts_and_redrives_after_five() -> None:
    queue = alert_processor_context(ALERT, fixture_config("all_processors")).queue

    assert queue.name == "acme_streamalert_alerts"
    assert queue.dead_letter_name == "acme_streamalert_alerts_dlq"
    assert queue.retention_seconds == 14 * 24 * 3600
    assert queue.visibility_timeout == 6 * 60
    assert queue.max_receive_count == 5


def test_the_queue_invokes_the_function_in_batches_of_ten_reporting_item_failures() -> None:
    event_source = alert_processor_context(ALERT, fixture_config("all_processors")).event_source

    assert event_source == SqsEventSourceContext(
        batch_size=10,
        function_response_types=("ReportBatchItemFailures",),
        enabled=False,  # the fixture disables the alert processor: the mapping stays, switched off
    )


def test_the_local_target_has_no_event_source_mapping() -> None:
    assert (
        alert_processor_context(
            ALERT, fixture_config("all_processors"), DeployTarget(local=True)
        ).event_source
        is None
    )


def test_the_policy_drains_the_queue_and_writes_only_alert_objects() -> None:
    context = alert_processor_context(ALERT, fixture_config("all_processors"))
    granted = {s["Sid"]: s for s in context.function.policy["Statement"]}

    assert set(granted) == {"WriteOwnLogs", "DrainAlertsQueue", "WriteAlerts"}
    assert granted["DrainAlertsQueue"]["Action"] == [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    assert granted["DrainAlertsQueue"]["Resource"] == [
        "arn:aws:sqs:us-east-1:123456789012:acme_streamalert_alerts"
    ]
    assert granted["WriteAlerts"] == {
        "Sid": "WriteAlerts",
        "Effect": "Allow",
        "Action": ["s3:PutObject"],
        "Resource": ["arn:aws:s3:::acme.streamalerts/alerts/*"],
    }


def test_the_module_owns_no_bucket_and_protects_nothing() -> None:
    context = alert_processor_context(ALERT, fixture_config("all_processors"))

    assert (context.owned_buckets, context.protected, context.notifications) == ((), (), ())


def test_a_config_without_the_block_is_refused() -> None:
    with pytest.raises(MissingBlockError, match=r"^lambda\.json has no alert_processor_config block"):
        alert_processor_context(ALERT, fixture_config("basic"))
