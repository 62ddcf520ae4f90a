"""Least privilege and encryption, checked on what the templates are given and on what they render."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest

from streamalert.config import load_config
from streamalert_cli.processors import deployable
from streamalert_cli.terraform import render
from streamalert_cli.terraform.context import DeployTarget, ModuleContext, QueueContext
from tests.streamalert_cli.terraform.aws_calls import CodeCalls, called_actions, shipped_sources
from tests.streamalert_cli.terraform.conftest import CONFIG_NAMES, GOLDEN_DIR, fixture_config

REPO = Path(__file__).resolve().parents[3]
SHIPPED_CONFIG = REPO / "conf"
# The Lambda runtime writes the function's output to its log group with the function's role
LAMBDA_LOGS = frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})
# What AWS does with a function's role on its behalf, by function: never an action its code calls (a test
# below says so), so nothing here can hide a call of the code
ON_BEHALF: dict[str, frozenset[str]] = {
    "athena_refresh": LAMBDA_LOGS
    | {
        # Athena runs ADD PARTITION and MSCK REPAIR TABLE with the caller's rights: the catalog reads and
        # writes of the DDL, listing and reading the tables' data, writing the query results
        "glue:CreatePartition",
        "glue:GetPartition",
        "glue:GetPartitions",
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        # With the queue trigger, Lambda's poller reads the queue with the function's role (it also
        # receives and deletes, which the scheduled code calls itself)
        "sqs:GetQueueAttributes",
    },
    # The Kinesis event source mappings read the streams with the function's role (its on-failure
    # destinations send with sqs:SendMessage, which its code calls too); S3 decrypts an SSE-KMS object for
    # its GetObject with the caller's rights
    "rule_processor": LAMBDA_LOGS
    | {
        "kms:Decrypt",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    },
    # The SQS event source mapping drains the alerts queue with the function's role
    "alert_processor": LAMBDA_LOGS
    | {
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    },
}
# Configs that use every code path of every function (Athena and Glue refresh types, S3 and Kinesis
# inputs): under them each call of the code must be granted. Others grant less, by design.
EVERY_PATH_CONFIGS = ("all_processors", "shipped")


@functools.cache
def code_calls(app: str) -> CodeCalls:
    """The IAM actions the calls of the function's shipped code need (tests/.../aws_calls.py)."""
    return called_actions(shipped_sources(app, REPO))


def policy_contexts(config_name: str) -> dict[str, dict[str, Any]]:
    """App -> its function's policy, for a fixture config or the shipped conf/."""
    config = load_config(SHIPPED_CONFIG) if config_name == "shipped" else fixture_config(config_name)
    modules = render.module_contexts(config, deployable(config), DeployTarget(local=False))
    return {module.module: module.function.policy for module in modules}


def module_contexts(config_name: str) -> tuple[ModuleContext, ...]:
    config = fixture_config(config_name)
    return render.module_contexts(config, deployable(config), DeployTarget(local=False))


def granted_actions(policy: dict[str, Any]) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def ungranted(code: CodeCalls, policy: dict[str, Any]) -> dict[str, list[str]]:
    """Each action the code calls that the policy does not grant, with the calls that need it."""
    granted = granted_actions(policy)
    return {
        action: sorted(map(str, sites)) for action, sites in code.actions.items() if action not in granted
    }


def unexplained(app: str, code: CodeCalls, policy: dict[str, Any]) -> set[str]:
    """Granted actions that the code never calls and AWS does not do on the function's behalf."""
    return granted_actions(policy) - set(code.actions) - ON_BEHALF[app]


@pytest.mark.parametrize("app", sorted(ON_BEHALF))
def test_nothing_done_on_a_functions_behalf_is_called_by_its_code(app: str) -> None:
    assert ON_BEHALF[app].isdisjoint(code_calls(app).actions)


@pytest.mark.parametrize("config_name", EVERY_PATH_CONFIGS)
def test_every_call_of_the_functions_code_is_granted(config_name: str) -> None:
    policies = policy_contexts(config_name)

    assert set(policies) == set(ON_BEHALF)
    for app, policy in policies.items():
        assert ungranted(code_calls(app), policy) == {}, app


@pytest.mark.parametrize("config_name", [*CONFIG_NAMES, "shipped"])
def test_every_granted_action_is_called_by_the_code_or_done_on_its_behalf(config_name: str) -> None:
    for app, policy in policy_contexts(config_name).items():
        assert unexplained(app, code_calls(app), policy) == set(), app


def test_the_scan_finds_the_calls_each_function_is_known_to_make() -> None:
    assert {"glue:BatchCreatePartition", "athena:StartQueryExecution", "sqs:DeleteMessage"} <= set(
        code_calls("athena_refresh").actions
    )
    assert {"s3:GetObject", "sqs:GetQueueUrl", "sqs:SendMessage"} <= set(code_calls("rule_processor").actions)
    assert set(code_calls("alert_processor").actions) == {"s3:PutObject"}


def test_a_call_added_to_the_code_without_a_grant_fails_the_check() -> None:
    sources = shipped_sources("athena_refresh", REPO)
    sources["apps.athena_refresh.main"] += (
        "\n\ndef _drop(catalog):\n    catalog._client.delete_table(DatabaseName='d', Name='t')\n"
        "\n\nCLEANUPS = [_drop]\n"
    )
    policy = policy_contexts("all_processors")["athena_refresh"]

    assert list(ungranted(called_actions(sources), policy)) == ["glue:DeleteTable"]


def test_a_grant_the_code_stopped_needing_fails_the_check() -> None:
    calls = code_calls("alert_processor")
    stale = CodeCalls(calls.services, {a: s for a, s in calls.actions.items() if a != "s3:PutObject"})
    policy = policy_contexts("all_processors")["alert_processor"]

    assert unexplained("alert_processor", stale, policy) == {"s3:PutObject"}


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
    queues = [(context.function, getattr(context, "queue", None)) for context in module_contexts(config_name)]
    read = [(function, queue) for function, queue in queues if isinstance(queue, QueueContext)]

    assert read
    for function, queue in read:
        assert queue.visibility_timeout >= 6 * function.timeout


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
