"""The deployer's policy keeps in step with what the rendered Terraform creates: every resource type the
templates render for AWS has its actions, every name the contexts give is covered, and ``*`` is the
resource only where AWS names none."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from config_schemas.models import Config
from streamalert.config import load_config
from streamalert_cli.deploy import main as deploy_main
from streamalert_cli.processors import deployable
from streamalert_cli.terraform import render
from streamalert_cli.terraform.context import AWS_TARGET, Arns
from streamalert_cli.terraform.deployer_policy import (
    RESOURCE_GRANTS,
    UngrantedResourceError,
    deployer_policy,
    resource_types,
)
from tests.streamalert_cli.terraform.conftest import CONFIG_NAMES, fixture_config

REPO = Path(__file__).resolve().parents[3]
CONFIGS = ["shipped", *CONFIG_NAMES]
# Where AWS has no resource to authorize on: the caller's identity, and a mapping not created yet (its
# statement is held to the deployment's functions by the lambda:FunctionArn condition)
STAR_RESOURCES = {"CheckAccount": None, "NewEventSourceMappings": "lambda:FunctionArn"}
# IAM's limit for the inline policies of a role (a managed policy takes 6,144)
ROLE_INLINE_POLICY_LIMIT = 10_240


def config_of(name: str) -> Config:
    return load_config(REPO / "conf") if name == "shipped" else fixture_config(name)


def rendered_types(config: Config) -> set[str]:
    return resource_types(render.render_files(config, AWS_TARGET, deployable(config)))


def statements(config: Config) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in deployer_policy(config)["Statement"]}


def covered(statement: dict[str, Any], arn: str) -> bool:
    return any(fnmatchcase(arn, pattern) for pattern in statement["Resource"])


@pytest.mark.parametrize("config_name", CONFIGS)
def test_every_resource_type_rendered_for_aws_has_its_actions(config_name: str) -> None:
    missing = rendered_types(config_of(config_name)) - set(RESOURCE_GRANTS)

    assert missing == set(), "add the provider's actions of these types to RESOURCE_GRANTS"


def test_every_entry_is_of_a_type_some_config_renders() -> None:
    rendered = set().union(*(rendered_types(config_of(name)) for name in CONFIGS))

    assert set(RESOURCE_GRANTS) == rendered


def test_a_resource_type_without_its_actions_fails_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(RESOURCE_GRANTS, "aws_sqs_queue")

    with pytest.raises(UngrantedResourceError, match=r"^the templates render aws_sqs_queue, which"):
        deployer_policy(config_of("shipped"))


@pytest.mark.parametrize("config_name", CONFIGS)
def test_the_policy_is_a_valid_document_with_star_only_where_aws_requires_it(config_name: str) -> None:
    policy = json.loads(json.dumps(deployer_policy(config_of(config_name))))

    assert policy["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"]
        assert statement["Resource"]
        assert all(":" in action and "*" not in action for action in statement["Action"])
        if "*" in statement["Resource"]:
            assert statement["Sid"] in STAR_RESOURCES
            assert statement["Resource"] == ["*"]
            key = STAR_RESOURCES[statement["Sid"]]
            assert key is None or key in statement["Condition"]["ArnLike"]
        else:
            assert all(resource.startswith("arn:") for resource in statement["Resource"])
    assert len(json.dumps(policy, separators=(",", ":"))) < ROLE_INLINE_POLICY_LIMIT


@pytest.mark.parametrize("config_name", CONFIGS)
def test_every_name_the_contexts_give_is_covered_and_no_other_deployments(config_name: str) -> None:
    config = config_of(config_name)
    arns = Arns(config)
    granted = statements(config)
    modules = render.module_contexts(config, deployable(config), AWS_TARGET)

    for module in modules:
        function = module.function
        assert covered(granted["Functions"], arns.regional("lambda", f"function:{function.name}:production"))
        assert covered(
            granted["PassFunctionRoles"],
            f"arn:{arns.partition}:iam::{arns.account}:role/{function.role_name}",
        )
        assert covered(granted["LogGroups"], arns.log_group(module.log_group.name))
        for alarm in module.alarms:
            assert covered(granted["Alarms"], arns.regional("cloudwatch", f"alarm:{alarm.name}"))
        for bucket in module.owned_buckets:
            assert covered(granted["OwnedBuckets"], arns.bucket(bucket))
    other = config.account.prefix + "x"
    assert not covered(granted["Functions"], arns.regional("lambda", f"function:{other}_streamalert_rule"))
    assert not covered(
        granted["PassFunctionRoles"], f"arn:{arns.partition}:iam::{arns.account}:role/{other}_streamalert"
    )


def test_the_deploy_reads_what_it_checks_and_configures_only_the_data_buckets() -> None:
    granted = statements(config_of("all_processors"))

    assert granted["PreflightBuckets"]["Resource"] == [
        "arn:aws:s3:::acme-cloudtrail-logs",
        "arn:aws:s3:::acme-data",
    ]
    assert granted["PreflightStreams"]["Resource"] == [
        "arn:aws:kinesis:us-east-1:123456789012:stream/acme_other_stream",
        "arn:aws:kinesis:us-east-1:123456789012:stream/acme_stream",
    ]
    assert granted["DataBucketNotifications"]["Resource"] == [
        "arn:aws:s3:::acme-cloudtrail-logs",
        "arn:aws:s3:::acme-data",
        "arn:aws:s3:::acme.streamalerts",
    ]
    assert granted["DataBucketNotifications"]["Action"] == [
        "s3:GetBucketNotification",
        "s3:PutBucketNotification",
    ]
    assert granted["DisposableBuckets"]["Resource"] == ["arn:aws:s3:::acme-streamalert-athena-results"]
    assert "glue:DeleteDatabase" not in json.dumps(granted)


def test_a_deployment_of_the_refresh_alone_gets_nothing_of_the_other_functions() -> None:
    granted = statements(fixture_config("athena_modes"))

    assert "PreflightStreams" not in granted
    assert "lambda:PutFunctionEventInvokeConfig" not in granted["Functions"]["Action"]
    assert granted["StateBucket"]["Resource"] == ["arn:aws-us-gov:s3:::beta-team-streamalert-terraform-state"]


@pytest.mark.parametrize("config_name", ["athena_modes", "queue_trigger"])
def test_either_trigger_may_replace_the_other_on_a_redeploy(config_name: str) -> None:
    """The policy of a config on one trigger removes the other's resources (the switch is a redeploy)."""
    config = fixture_config(config_name)
    granted = statements(config)

    assert {"events:DeleteRule", "events:RemoveTargets"} <= set(granted["Schedules"]["Action"])
    [rule] = granted["Schedules"]["Resource"]
    assert rule.endswith(f":rule/{config.account.prefix}_streamalert_athena_partition_refresh")
    assert "lambda:RemovePermission" in granted["Functions"]["Action"]
    assert granted["NewEventSourceMappings"]["Action"] == ["lambda:CreateEventSourceMapping"]
    assert "lambda:DeleteEventSourceMapping" in granted["EventSourceMappings"]["Action"]


def test_scripts_deploy_prints_the_policy_alone_without_calling_aws(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(self: BaseClient, operation: str, params: object) -> None:
        raise AssertionError(f"unexpected AWS call {operation}")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)

    assert deploy_main(["--print-deployer-policy", "--config-dir", str(REPO / "conf")]) == 0

    assert json.loads(capsys.readouterr().out) == deployer_policy(config_of("shipped"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "one of the arguments --processor --print-deployer-policy is required"),
        (["--processor", "all", "--print-deployer-policy"], "not allowed with argument --processor"),
    ],
)
def test_the_policy_or_a_processor_is_asked_for(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy_main(argv) == 2
    assert message in capsys.readouterr().err
