"""The least-privilege IAM policy of whoever runs ``scripts/deploy`` (and rollback, destroy) to AWS,
built from the same contexts the templates are rendered from: the resource types the rendered Terraform
holds give the actions (``RESOURCE_GRANTS``: what the AWS provider calls to create, read, update and
delete each), the contexts give the names and ARNs they act on. The deploy's own calls are added: the
account check, the state and source buckets, the preflight's reads.

A resource is ``"*"`` only where AWS has no resource to name: ``sts:GetCallerIdentity``, and
``lambda:CreateEventSourceMapping`` (authorized on the function it maps, by the ``lambda:FunctionArn``
condition). Actions that act on every resource of a kind in the account are kept to this account and
region (``logs:DescribeLogGroups`` on ``log-group:*``, the event source mappings' ids, which AWS picks).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from config_schemas.models import Config
from streamalert.config import load_config
from streamalert.constants import alerts_bucket_name, lambda_log_group_name
from streamalert.exceptions import StreamAlertError
from streamalert_cli.preflight import named_resources
from streamalert_cli.processors import deployable
from streamalert_cli.terraform import context, render
from streamalert_cli.terraform.athena_refresh_context import TRIGGER_RESOURCE_TYPES, AthenaRefreshContext
from streamalert_cli.terraform.context import AWS_TARGET, Arns, ModuleContext, SharedContext, allow

# The kinds of the deployment's resources a grant acts on (deployment_arns gives the ARNs of each)
FUNCTIONS = "Functions"
FUNCTION_ROLES = "FunctionRoles"
PASS_FUNCTION_ROLES = "PassFunctionRoles"
LOG_GROUPS = "LogGroups"
LOG_GROUP_LISTING = "LogGroupListing"
QUEUES = "Queues"
ALARMS = "Alarms"
ALARMS_TOPIC = "AlarmsTopic"
SCHEDULES = "Schedules"
EVENT_SOURCE_MAPPINGS = "EventSourceMappings"
NEW_EVENT_SOURCE_MAPPINGS = "NewEventSourceMappings"
OWNED_BUCKETS = "OwnedBuckets"
DISPOSABLE_BUCKETS = "DisposableBuckets"
DISPOSABLE_OBJECTS = "DisposableObjects"
DATA_BUCKET_NOTIFICATIONS = "DataBucketNotifications"
CATALOG = "Catalog"
CATALOG_TABLES = "CatalogTables"
WORKGROUPS = "Workgroups"

_BUCKET_READ = (
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
)
_TAGS = ("TagResource", "UntagResource", "ListTagsForResource")


def _tags(service: str) -> tuple[str, ...]:
    return tuple(f"{service}:{action}" for action in _TAGS)


class UngrantedResourceError(StreamAlertError):
    """A resource type the templates render has no entry in ``RESOURCE_GRANTS``."""


@dataclass(frozen=True)
class Grant:
    """Actions on one kind of the deployment's resources."""

    on: str
    actions: tuple[str, ...]


# What the AWS provider calls to create, read, update and delete each resource type the templates render
# for AWS. A test renders conf/ and every fixture config and fails on a type missing here.
RESOURCE_GRANTS: dict[str, tuple[Grant, ...]] = {
    "aws_athena_workgroup": (
        Grant(WORKGROUPS, ("athena:CreateWorkGroup", "athena:GetWorkGroup", "athena:UpdateWorkGroup")),
        Grant(WORKGROUPS, ("athena:DeleteWorkGroup", *_tags("athena"))),
    ),
    "aws_cloudwatch_event_rule": (
        Grant(SCHEDULES, ("events:PutRule", "events:DescribeRule", "events:DeleteRule", *_tags("events"))),
        Grant(SCHEDULES, ("events:EnableRule", "events:DisableRule")),
    ),
    "aws_cloudwatch_event_target": (
        Grant(SCHEDULES, ("events:PutTargets", "events:ListTargetsByRule", "events:RemoveTargets")),
    ),
    "aws_cloudwatch_log_group": (
        Grant(LOG_GROUPS, ("logs:CreateLogGroup", "logs:DeleteLogGroup", *_tags("logs"))),
        Grant(LOG_GROUPS, ("logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy")),
        Grant(LOG_GROUPS, ("logs:ListTagsLogGroup", "logs:TagLogGroup", "logs:UntagLogGroup")),
        Grant(LOG_GROUP_LISTING, ("logs:DescribeLogGroups",)),
    ),
    "aws_cloudwatch_metric_alarm": (
        Grant(
            ALARMS,
            (
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:DeleteAlarms",
                *_tags("cloudwatch"),
            ),
        ),
    ),
    # Created, read and updated, never deleted: both carry prevent_destroy, and destroy keeps them
    "aws_glue_catalog_database": (
        Grant(CATALOG, ("glue:CreateDatabase", "glue:GetDatabase", "glue:UpdateDatabase")),
        Grant(CATALOG, ("glue:GetTags", "glue:TagResource", "glue:UntagResource")),
    ),
    "aws_glue_catalog_table": (
        Grant(
            CATALOG_TABLES,
            ("glue:CreateTable", "glue:GetTable", "glue:UpdateTable", "glue:GetPartitionIndexes"),
        ),
    ),
    "aws_iam_role": (
        Grant(
            FUNCTION_ROLES,
            (
                "iam:CreateRole",
                "iam:GetRole",
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
            ),
        ),
    ),
    "aws_iam_role_policy": (
        Grant(FUNCTION_ROLES, ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy")),
    ),
    "aws_lambda_alias": (
        Grant(
            FUNCTIONS, ("lambda:CreateAlias", "lambda:GetAlias", "lambda:UpdateAlias", "lambda:DeleteAlias")
        ),
    ),
    "aws_lambda_event_source_mapping": (
        Grant(NEW_EVENT_SOURCE_MAPPINGS, ("lambda:CreateEventSourceMapping",)),
        Grant(
            EVENT_SOURCE_MAPPINGS,
            (
                "lambda:GetEventSourceMapping",
                "lambda:UpdateEventSourceMapping",
                "lambda:DeleteEventSourceMapping",
                "lambda:ListTags",
                "lambda:TagResource",
                "lambda:UntagResource",
            ),
        ),
    ),
    # The role is passed to Lambda only; the code is read from the source bucket with the caller's rights
    "aws_lambda_function": (
        Grant(
            FUNCTIONS,
            (
                "lambda:CreateFunction",
                "lambda:GetFunction",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:ListVersionsByFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:PublishVersion",
                "lambda:DeleteFunction",
                "lambda:ListTags",
                "lambda:TagResource",
                "lambda:UntagResource",
            ),
        ),
        Grant(PASS_FUNCTION_ROLES, ("iam:PassRole",)),
    ),
    "aws_lambda_function_event_invoke_config": (
        Grant(
            FUNCTIONS,
            (
                "lambda:PutFunctionEventInvokeConfig",
                "lambda:GetFunctionEventInvokeConfig",
                "lambda:UpdateFunctionEventInvokeConfig",
                "lambda:DeleteFunctionEventInvokeConfig",
            ),
        ),
    ),
    "aws_lambda_permission": (
        Grant(FUNCTIONS, ("lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission")),
    ),
    # The alerts bucket is never deleted (prevent_destroy); the results bucket is, emptied first
    "aws_s3_bucket": (
        Grant(OWNED_BUCKETS, ("s3:CreateBucket", "s3:PutBucketTagging", *_BUCKET_READ)),
        Grant(DISPOSABLE_BUCKETS, ("s3:DeleteBucket", "s3:ListBucketVersions")),
        Grant(DISPOSABLE_OBJECTS, ("s3:DeleteObject", "s3:DeleteObjectVersion")),
    ),
    "aws_s3_bucket_lifecycle_configuration": (
        Grant(OWNED_BUCKETS, ("s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration")),
    ),
    "aws_s3_bucket_notification": (
        Grant(DATA_BUCKET_NOTIFICATIONS, ("s3:GetBucketNotification", "s3:PutBucketNotification")),
    ),
    "aws_s3_bucket_public_access_block": (
        Grant(OWNED_BUCKETS, ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock")),
    ),
    "aws_s3_bucket_server_side_encryption_configuration": (
        Grant(OWNED_BUCKETS, ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration")),
    ),
    "aws_sns_topic": (
        Grant(
            ALARMS_TOPIC,
            (
                "sns:CreateTopic",
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:DeleteTopic",
                *_tags("sns"),
            ),
        ),
    ),
    "aws_sqs_queue": (
        Grant(
            QUEUES,
            (
                "sqs:CreateQueue",
                "sqs:GetQueueAttributes",
                "sqs:SetQueueAttributes",
                "sqs:DeleteQueue",
                "sqs:ListQueueTags",
                "sqs:TagQueue",
                "sqs:UntagQueue",
            ),
        ),
    ),
}
_RESOURCE_TYPE = re.compile(r'^(?:resource|data) "([a-z0-9_]+)"', re.MULTILINE)


def print_deployer_policy(config_dir: Path, out: TextIO | None = None) -> int:
    """``scripts/deploy --print-deployer-policy``: the policy of the config in ``config_dir`` as JSON on
    stdout, alone (no progress line), so that it can go to a file or to ``aws iam put-role-policy``."""
    print(json.dumps(deployer_policy(load_config(config_dir)), indent=2), file=out or sys.stdout)
    return 0


def resource_types(files: Mapping[Path, str]) -> set[str]:
    """The resource (and data source) types of rendered Terraform files."""
    return {kind for text in files.values() for kind in _RESOURCE_TYPE.findall(text)}


def deployer_policy(config: Config) -> dict[str, Any]:
    """The policy that lets ``scripts/deploy`` (rollback, destroy) deploy every processor of the config to
    AWS: a statement per kind of resource, on that kind's ARNs. UngrantedResourceError names a rendered
    resource type that ``RESOURCE_GRANTS`` lacks."""
    processors = deployable(config)
    modules = render.module_contexts(config, processors, AWS_TARGET)
    shared = context.shared_context(config, AWS_TARGET, modules)
    types = resource_types(render.render_files(config, AWS_TARGET, processors))
    if any(isinstance(module, AthenaRefreshContext) for module in modules):
        # Either trigger's resources: the redeploy that switches the refresh's trigger removes the other's
        types.update(kind for kinds in TRIGGER_RESOURCE_TYPES.values() for kind in kinds)
    arns = deployment_arns(config, modules, shared)
    ungranted = sorted(types - set(RESOURCE_GRANTS))
    if ungranted:
        raise UngrantedResourceError(
            f"the templates render {', '.join(ungranted)}, which RESOURCE_GRANTS of {__name__} does not "
            "know: add the actions the AWS provider calls for it"
        )
    actions: dict[str, set[str]] = {}
    for kind in sorted(types):
        for grant in RESOURCE_GRANTS[kind]:
            actions.setdefault(grant.on, set()).update(grant.actions)
    statements = [_statement(on, sorted(granted), arns) for on, granted in actions.items()]
    statements = [statement for statement in statements if statement["Resource"]]
    return {
        "Version": "2012-10-17",
        "Statement": [*_deploy_steps(config, modules, Arns(config)), *sorted(statements, key=_sid)],
    }


def deployment_arns(
    config: Config, modules: Sequence[ModuleContext], shared: SharedContext
) -> dict[str, list[str]]:
    """Each kind of resource the deployment creates (or, for data buckets, configures), by its ARNs.
    Functions (and their versions and alias), roles, log groups, queues and alarms are named by the
    deployment's namespace, ``<prefix>_streamalert_*``: a prefix holds no underscore, so no other
    deployment's name starts so (and the policy stays under IAM's 6,144 characters of a managed policy).
    A role is passed to Lambda only if it is one of the functions' roles, by name."""
    arns = Arns(config)
    namespace = deployment_namespace(config.account.prefix)
    owned = sorted({bucket for module in modules for bucket in module.owned_buckets})
    disposable = [bucket for bucket in owned if bucket != alerts_bucket_name(config.account.prefix)]
    refreshes = [module for module in modules if isinstance(module, AthenaRefreshContext)]
    catalog = [(m.database, table.name) for m in refreshes for table in m.tables]
    functions = [arns.regional("lambda", f"function:{namespace}")]
    return {
        FUNCTIONS: functions,
        FUNCTION_ROLES: [_role(arns, namespace)],
        PASS_FUNCTION_ROLES: [_role(arns, m.function.role_name) for m in modules],
        LOG_GROUPS: [arns.regional("logs", f"log-group:{lambda_log_group_name(namespace)}")],
        LOG_GROUP_LISTING: [arns.regional("logs", "log-group:*")],
        QUEUES: [arns.regional("sqs", namespace)],
        ALARMS: [arns.regional("cloudwatch", f"alarm:{namespace}")],
        ALARMS_TOPIC: [arns.regional("sns", shared.alarms_topic.name)],
        SCHEDULES: [
            *(arns.regional("events", f"rule/{m.schedule_rule}") for m in refreshes),
            # the EventBridge rules of buckets read through EventBridge
            *(arns.regional("events", f"rule/{rule.name}") for rule in shared.event_rules),
        ],
        EVENT_SOURCE_MAPPINGS: [arns.regional("lambda", "event-source-mapping:*")],
        NEW_EVENT_SOURCE_MAPPINGS: ["*"],
        OWNED_BUCKETS: [arns.bucket(bucket) for bucket in owned],
        DISPOSABLE_BUCKETS: [arns.bucket(bucket) for bucket in disposable],
        DISPOSABLE_OBJECTS: [arns.bucket(f"{bucket}/*") for bucket in disposable],
        DATA_BUCKET_NOTIFICATIONS: [arns.bucket(n.bucket) for n in shared.notifications],
        CATALOG: sorted({arn for database, _ in catalog for arn in arns.glue_tables(database, ())}),
        CATALOG_TABLES: sorted(
            {arn for database, table in catalog for arn in arns.glue_tables(database, [table])}
        ),
        WORKGROUPS: [arns.regional("athena", f"workgroup/{m.workgroup.name}") for m in refreshes],
    }


def deployment_namespace(prefix: str) -> str:
    """The pattern of the names a deployment gives its functions, roles, queues and alarms."""
    return f"{prefix}_streamalert_*"


def _role(arns: Arns, name: str) -> str:
    return f"arn:{arns.partition}:iam::{arns.account}:role/{name}"


def _statement(on: str, actions: list[str], arns: Mapping[str, list[str]]) -> dict[str, Any]:
    """The statement of one kind: a role is passed to Lambda only, a mapping made for our functions only."""
    if on == PASS_FUNCTION_ROLES:
        return allow(on, actions, arns[on], {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})
    if on == NEW_EVENT_SOURCE_MAPPINGS:
        return allow(on, actions, arns[on], {"ArnLike": {"lambda:FunctionArn": arns[FUNCTIONS]}})
    return allow(on, actions, arns[on])


def _deploy_steps(config: Config, modules: Sequence[ModuleContext], arns: Arns) -> list[dict[str, Any]]:
    """What the deploy calls itself: the account check, the state (created on the first deploy, locked
    with a lock file), the source bucket and its zips, and the preflight's reads."""
    state_bucket, state_key = context.state_location(config)
    source = context.source_bucket(config)
    created = {bucket for module in modules for bucket in module.owned_buckets} | {source, state_bucket}
    named = named_resources(config, {module.module for module in modules}, created)
    new_bucket = ["s3:CreateBucket", "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration"]
    statements = [
        allow("CheckAccount", ["sts:GetCallerIdentity"], ["*"]),
        allow(
            "StateBucket",
            sorted([*new_bucket, "s3:ListBucket", "s3:PutBucketVersioning"]),
            [arns.bucket(state_bucket)],
        ),
        allow(
            "StateObjects",
            ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            [arns.bucket(f"{state_bucket}/{state_key}"), arns.bucket(f"{state_bucket}/{state_key}.tflock")],
        ),
        allow("SourceBucket", sorted([*new_bucket, "s3:ListBucket"]), [arns.bucket(source)]),
        allow("SourceObjects", ["s3:GetObject", "s3:PutObject"], [arns.bucket(f"{source}/*")]),
    ]
    if named.buckets:
        read = ["s3:GetBucketLocation", "s3:GetEncryptionConfiguration", "s3:ListBucket"]
        statements.append(allow("PreflightBuckets", read, [arns.bucket(b.name) for b in named.buckets]))
    if any(bucket.objects_read for bucket in named.buckets):
        statements.append(allow("PreflightKeyAliases", ["kms:DescribeKey"], [arns.regional("kms", "key/*")]))
    if named.streams:
        streams = [arns.regional("kinesis", f"stream/{name}") for name in named.streams]
        statements.append(allow("PreflightStreams", ["kinesis:DescribeStreamSummary"], streams))
    if named.tables:
        tables = _tables(arns, [(table.database, table.name) for table in named.tables])
        statements.append(allow("PreflightTables", ["glue:GetDatabase", "glue:GetTable"], tables))
    return statements


def _tables(arns: Arns, tables: Iterable[tuple[str, str]]) -> list[str]:
    by_database: dict[str, list[str]] = {}
    for database, table in tables:
        by_database.setdefault(database, []).append(table)
    return sorted(
        {arn for database, names in by_database.items() for arn in arns.glue_tables(database, names)}
    )


def _sid(statement: Mapping[str, Any]) -> str:
    return str(statement["Sid"])
