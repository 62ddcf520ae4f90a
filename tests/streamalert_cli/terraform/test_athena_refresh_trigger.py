"""The refresh's trigger in its template context and rendered Terraform: the schedule, or the queue through
an event source mapping; the queue's visibility timeout in both; what a switch between them changes."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from config_schemas.models import Config, EventSourceSettings, Trigger
from streamalert_cli.processors import by_name
from streamalert_cli.terraform import render
from streamalert_cli.terraform.athena_refresh_context import (
    TRIGGER_RESOURCE_TYPES,
    RefreshEventSourceContext,
    ScheduleContext,
    athena_refresh_context,
)
from streamalert_cli.terraform.context import AWS_TARGET, DeployTarget, visibility_timeout
from tests.streamalert_cli.terraform.conftest import GOLDEN_DIR, fixture_config

ATHENA = by_name("athena")
LOCAL = DeployTarget(local=True)


def on_trigger(config: Config, trigger: Trigger, **changes: object) -> Config:
    """The config with its refresh block on ``trigger`` (and other block settings changed)."""
    block = config.athena_refresh
    assert block is not None
    return replace(
        config,
        lambda_config=replace(
            config.lambda_config, athena_partition_refresh=replace(block, trigger=trigger, **changes)
        ),
    )


def statement_actions(config: Config, sid: str) -> list[str] | None:
    policy = athena_refresh_context(ATHENA, config).function.policy
    found = [s["Action"] for s in policy["Statement"] if s["Sid"] == sid]
    return found[0] if found else None


def test_the_schedule_is_the_default_trigger_and_renders_no_mapping() -> None:
    context = athena_refresh_context(ATHENA, fixture_config("basic"))

    assert context.schedule == ScheduleContext(
        name="acme_streamalert_athena_partition_refresh",
        description="Runs the Athena Partition Refresh of acme rate(10 minutes)",
        expression="rate(10 minutes)",
        state="ENABLED",
    )
    assert context.event_source is None
    assert context.queue.visibility_timeout == 6 * 60


def test_the_queue_trigger_maps_the_queue_with_the_blocks_batching_and_no_schedule() -> None:
    context = athena_refresh_context(ATHENA, fixture_config("queue_trigger"))

    assert context.schedule is None
    assert context.event_source == RefreshEventSourceContext(
        batch_size=2000,
        maximum_batching_window_seconds=30,
        maximum_concurrency=8,
        function_response_types=("ReportBatchItemFailures",),
        enabled=True,
    )
    # The rule's name stays known: the deployer's policy may remove the schedule a switch leaves
    assert context.schedule_rule == "acme_streamalert_athena_partition_refresh"


def test_a_message_stays_hidden_six_timeouts_plus_the_batching_window() -> None:
    queue = athena_refresh_context(ATHENA, fixture_config("queue_trigger")).queue

    assert queue.visibility_timeout == 6 * 120 + 30
    assert visibility_timeout(900, 300) == 5700  # the largest: under SQS's 12 hours


def test_the_queue_trigger_takes_the_default_batching_when_the_block_gives_none() -> None:
    config = on_trigger(fixture_config("basic"), Trigger.QUEUE)
    context = athena_refresh_context(ATHENA, config)

    assert context.event_source is not None
    assert (context.event_source.batch_size, context.event_source.maximum_batching_window_seconds) == (
        1000,
        10,
    )
    assert context.event_source.maximum_concurrency == 5
    assert context.queue.visibility_timeout == 6 * 60 + 10


@pytest.mark.parametrize(
    ("enabled", "target", "mapping_enabled"),
    [(True, AWS_TARGET, True), (False, AWS_TARGET, False), (True, LOCAL, False)],
)
def test_the_mapping_is_disabled_with_the_function_and_on_the_emulator(
    enabled: bool, target: DeployTarget, mapping_enabled: bool
) -> None:
    config = on_trigger(fixture_config("basic"), Trigger.QUEUE, enabled=enabled)

    event_source = athena_refresh_context(ATHENA, config, target).event_source

    assert event_source is not None
    assert event_source.enabled is mapping_enabled


def test_the_role_lets_the_mapping_poll_the_queue_only_with_the_queue_trigger() -> None:
    queue_config = fixture_config("queue_trigger")

    assert statement_actions(queue_config, "EventSourceMappingPollsQueue") == [
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    assert statement_actions(fixture_config("basic"), "EventSourceMappingPollsQueue") is None


def rendered_refresh(config: Config, target: DeployTarget = AWS_TARGET) -> str:
    files = render.render_files(config, target, [ATHENA])
    return files[Path("athena_refresh/main.tf")]


def test_the_queue_trigger_renders_the_mapping_to_the_alias_and_no_rule() -> None:
    text = (GOLDEN_DIR / "queue_trigger" / "aws" / "athena_refresh" / "main.tf").read_text()

    [mapping] = re.findall(
        r'^resource "aws_lambda_event_source_mapping" "refresh" \{\n.*?^\}$', text, re.M | re.S
    )
    assert "event_source_arn                   = aws_sqs_queue.notifications.arn" in mapping
    assert "function_name                      = aws_lambda_alias.production.arn" in mapping
    assert 'function_response_types            = ["ReportBatchItemFailures"]' in mapping
    assert "batch_size                         = 2000" in mapping
    assert "maximum_batching_window_in_seconds = 30" in mapping
    assert re.search(r"scaling_config \{\n\s+maximum_concurrency = 8\n\s+\}", mapping)
    assert "enabled                            = true" in mapping
    for schedule in ("aws_cloudwatch_event_rule", "aws_cloudwatch_event_target", "aws_lambda_permission"):
        assert f'resource "{schedule}"' not in text


def resource_blocks(text: str) -> dict[str, str]:
    """Each resource of a rendered file by its address, with its body."""
    found = re.findall(r'^resource "([a-z0-9_]+)" "([a-z0-9_]+)" (\{\n.*?^\})$', text, re.M | re.S)
    return {f"{kind}.{name}": body for kind, name, body in found}


@pytest.mark.parametrize("window", [0, 10])
def test_a_switch_of_trigger_keeps_the_queue_and_changes_only_the_trigger_and_the_role(window: int) -> None:
    """Every resource but the trigger's keeps its address, so a switch is a redeploy that keeps the queue
    and its messages: the role's policy changes, and the queue's visibility timeout by the batching window
    (an update in place, no replacement: SQS sets it with SetQueueAttributes)."""
    settings = EventSourceSettings(
        batch_size=10, maximum_batching_window_seconds=window, maximum_concurrency=2
    )
    before = resource_blocks(rendered_refresh(fixture_config("basic")))
    after = resource_blocks(
        rendered_refresh(on_trigger(fixture_config("basic"), Trigger.QUEUE, event_source=settings))
    )

    assert set(before) - set(after) == {
        "aws_cloudwatch_event_rule.refresh",
        "aws_cloudwatch_event_target.refresh",
        "aws_lambda_permission.schedule",
    }
    assert set(after) - set(before) == {"aws_lambda_event_source_mapping.refresh"}
    # what the deployer's policy allows for a switch
    assert {a.split(".")[0] for a in set(before) - set(after)} == set(
        TRIGGER_RESOURCE_TYPES[Trigger.SCHEDULE]
    )
    assert {a.split(".")[0] for a in set(after) - set(before)} == set(TRIGGER_RESOURCE_TYPES[Trigger.QUEUE])
    changed = {address for address in set(before) & set(after) if before[address] != after[address]}
    assert changed == {"aws_iam_role_policy.refresh"} | ({"aws_sqs_queue.notifications"} if window else set())
    queue_lines = [
        (old, new)
        for old, new in zip(
            before["aws_sqs_queue.notifications"].splitlines(),
            after["aws_sqs_queue.notifications"].splitlines(),
            strict=True,
        )
        if old != new
    ]
    assert len(queue_lines) == (1 if window else 0)
    assert all("visibility_timeout_seconds" in old and str(360 + window) in new for old, new in queue_lines)
