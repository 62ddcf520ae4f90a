"""Least privilege and encryption, checked on what the templates are given and on what they render."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from streamalert.processors import deployable
from streamalert.terraform import render
from streamalert.terraform.context import DeployTarget
from tests.streamalert.terraform.conftest import CONFIG_NAMES, GOLDEN_DIR, fixture_config

REPO = Path(__file__).resolve().parents[3]
# Actions granted to the role for what AWS does on the function's behalf, not calls in its code
ON_BEHALF = {
    # CloudWatch Logs: the Lambda runtime writes the function's output
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    # SQS event source mapping (alert processor) and on-failure destinations (rule processor)
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:SendMessage",
    # Kinesis event source mapping (rule processor)
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    # Athena runs ADD PARTITION / MSCK REPAIR with the caller's rights: catalog and data reads, results
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def shipped_source(app: str) -> str:
    """The Python the function's zip holds of this project: its app and the shared framework."""
    folders = [REPO / "apps" / app, REPO / "streamalert"]
    return "\n".join(path.read_text() for folder in folders for path in sorted(folder.rglob("*.py")))


def module_contexts(config_name: str) -> list[tuple[str, dict[str, Any]]]:
    config = fixture_config(config_name)
    modules = render.module_contexts(config, deployable(config), DeployTarget(local=False))
    return [(module.name, module.context) for module in modules]


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_every_granted_action_is_called_by_the_code_or_done_on_its_behalf(config_name: str) -> None:
    for app, context in module_contexts(config_name):
        source = shipped_source(app)
        for statement in context["function"]["policy"]["Statement"]:
            for action in statement["Action"]:
                method = _CAMEL.sub("_", action.split(":")[1]).lower()
                assert f".{method}(" in source or action in ON_BEHALF, f"{app}: {action} is never called"


def test_the_functions_code_calls_are_granted() -> None:
    granted = {
        app: {action for s in context["function"]["policy"]["Statement"] for action in s["Action"]}
        for app, context in module_contexts("all_processors")
    }

    assert {"s3:GetObject", "sqs:GetQueueUrl", "sqs:SendMessage"} <= granted["rule_processor"]
    assert {"s3:PutObject", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= granted["alert_processor"]
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "glue:BatchCreatePartition"} <= granted[
        "athena_refresh"
    ]


def rendered(config_name: str) -> dict[Path, str]:
    """The rendered files of a fixture config for AWS, terraform fmt'ed (the golden files equal them)."""
    folder = GOLDEN_DIR / config_name / "aws"
    return {path.relative_to(folder): path.read_text() for path in sorted(folder.rglob("*.tf"))}


def resource_blocks(text: str, kind: str) -> list[str]:
    """The text of every ``resource "<kind>"`` block of a terraform-fmt'ed file."""
    return re.findall(rf'^resource "{kind}" "[^"]+" {{\n.*?^}}$', text, flags=re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_every_queue_and_topic_is_encrypted(config_name: str) -> None:
    text = "\n".join(rendered(config_name).values())

    queues = resource_blocks(text, "aws_sqs_queue")
    assert queues
    assert all(re.search(r"sqs_managed_sse_enabled\s*=\s*true", queue) for queue in queues)
    [topic] = resource_blocks(text, "aws_sns_topic")
    assert re.search(r'kms_master_key_id\s*=\s*"alias/aws/sns"', topic)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_queues_read_by_functions_hide_messages_six_function_timeouts(config_name: str) -> None:
    for _, context in module_contexts(config_name):
        queue = context.get("queue")
        if queue is not None:
            assert queue["visibility_timeout"] >= 6 * context["function"]["timeout"]


def test_s3_may_invoke_the_rule_processor_only_for_its_buckets_in_this_account() -> None:
    files = rendered("all_processors")
    permissions = resource_blocks(files[Path("rule_processor/main.tf")], "aws_lambda_permission")

    assert len(permissions) == 2
    for permission in permissions:
        assert 'principal      = "s3.amazonaws.com"' in permission
        assert re.search(r'source_arn\s+= "arn:aws:s3:::acme-(cloudtrail-logs|data)"', permission)
        assert 'source_account = "123456789012"' in permission


def test_every_dead_letter_queue_has_an_alarm_on_the_deployments_topic() -> None:
    files = rendered("all_processors")
    for module in ("athena_refresh", "rule_processor", "alert_processor"):
        text = files[Path(f"{module}/main.tf")]
        [alarm] = [a for a in resource_blocks(text, "aws_cloudwatch_metric_alarm") if "AWS/SQS" in a]
        assert '"ApproximateNumberOfMessagesVisible"' in alarm
        assert "alarm_actions       = [var.alarm_topic_arn]" in alarm
    [failures] = [
        a
        for a in resource_blocks(files[Path("athena_refresh/main.tf")], "aws_cloudwatch_metric_alarm")
        if "Failures" in a
    ]
    assert '"StreamAlert/AthenaPartitionRefresh"' in failures
    assert '"FunctionName" = "acme_streamalert_athena_partition_refresh"' in failures
    assert 'name              = "acme_streamalert_alarms"' in files[Path("main.tf")]
