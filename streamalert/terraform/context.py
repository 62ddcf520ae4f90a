"""What each template is given: one function per Terraform module builds its context from the config.

Templates only place these values; every name, ARN, policy and list is decided here, where it is unit-tested.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from config_schemas.models import AthenaRefreshConfig, Config, RefreshType, TableRoute
from streamalert.constants import (
    ALERTS_KEY_PREFIX,
    ATHENA_RESULTS_EXPIRATION_DAYS,
    DEAD_LETTER_MAX_RECEIVE_COUNT,
    DEFAULT_TERRAFORM_STATE_KEY,
    LAMBDA_ALIAS,
    LAMBDA_LOG_RETENTION_DAYS,
    LAMBDA_RUNTIME,
    QUEUE_RETENTION_SECONDS,
    alerts_bucket_name,
    athena_dead_letter_queue_name,
    athena_function_name,
    athena_queue_name,
    athena_workgroup_name,
    source_bucket_name,
    terraform_state_bucket_name,
)

ATHENA_MODULE = "athena_refresh"
ATHENA_HANDLER = "apps.athena_refresh.main.handler"
ALERTS_TABLE = "alerts"
# The columns of an alert object as the alert processor writes it (streamalert/alerts.py, one JSON object
# a file); the JSON SerDe gives the nested ``record`` object as its JSON text
ALERTS_TABLE_COLUMNS = (
    ("id", "string"),
    ("rule_name", "string"),
    ("log_type", "string"),
    ("record", "string"),
    ("created", "string"),
    ("outputs", "array<string>"),
)
ALERTS_PARTITION_KEYS = (("dt", "string"),)
# Data and catalog that scripts/destroy keeps (they also carry prevent_destroy in the template)
ATHENA_PROTECTED_RESOURCES = (
    "aws_s3_bucket.alerts",
    "aws_s3_bucket_server_side_encryption_configuration.alerts",
    "aws_s3_bucket_public_access_block.alerts",
    "aws_glue_catalog_database.streamalert",
    "aws_glue_catalog_table.alerts",
)
S3_OBJECT_CREATED = "s3:ObjectCreated:*"
# Every service the templates use: in local mode each one points at the emulator
LOCAL_ENDPOINT_SERVICES = (
    "athena",
    "cloudwatch",
    "events",
    "glue",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sns",
    "sqs",
    "sts",
)
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class DeployTarget:
    """Where a deployment goes: the embedded emulator (local state) or AWS (an S3 backend)."""

    local: bool


def aws_partition(region: str) -> str:
    """The ARN partition of a region (``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso``, ``aws-iso-b``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"


def source_bucket(config: Config) -> str:
    """The bucket the Lambda zips are uploaded to."""
    return config.global_config.source_bucket or source_bucket_name(config.account.prefix)


def state_location(config: Config) -> tuple[str, str]:
    """The (bucket, key) of the S3 backend that deployments to AWS keep their state in."""
    settings = config.global_config.terraform
    bucket = settings.state_bucket or terraform_state_bucket_name(config.account.prefix)
    return bucket, settings.state_key or DEFAULT_TERRAFORM_STATE_KEY


class _Arns:
    """ARN builders of one account and region."""

    def __init__(self, config: Config) -> None:
        self.partition = aws_partition(config.account.region)
        self.region = config.account.region
        self.account = config.account.aws_account_id

    def bucket(self, name: str) -> str:
        return f"arn:{self.partition}:s3:::{name}"

    def regional(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


def athena_refresh_context(config: Config) -> dict[str, Any]:
    """The context of ``athena_refresh.tf.j2``: the function, its queue, schedule, catalog and buckets."""
    block = config.athena_refresh
    if block is None:
        raise ValueError("lambda.json has no athena_partition_refresh_config block")
    prefix = config.account.prefix
    arns = _Arns(config)
    function_name = athena_function_name(prefix)
    queue_name = athena_queue_name(prefix)
    alerts_bucket = alerts_bucket_name(prefix)
    log_group = f"/aws/lambda/{function_name}"
    workgroup = athena_workgroup_name(prefix)
    return {
        "module": ATHENA_MODULE,
        "tags": {"streamalert:deployment": prefix, "streamalert:processor": "athena"},
        "function": {
            "name": function_name,
            "description": f"StreamAlert Athena Partition Refresh ({prefix})",
            "handler": ATHENA_HANDLER,
            "runtime": LAMBDA_RUNTIME,
            "memory": block.memory,
            "timeout": block.timeout,
            "alias": LAMBDA_ALIAS,
            "role_name": function_name,
            "policy_name": f"{function_name}_least_privilege",
            "policy": _refresh_policy(block, arns, queue_name, log_group, workgroup),
        },
        "log_group": {"name": log_group, "retention_days": LAMBDA_LOG_RETENTION_DAYS},
        "queue": {
            "name": queue_name,
            "dead_letter_name": athena_dead_letter_queue_name(prefix),
            "retention_seconds": QUEUE_RETENTION_SECONDS,
            "visibility_timeout": 6 * block.timeout,
            "max_receive_count": DEAD_LETTER_MAX_RECEIVE_COUNT,
            "policy": _queue_policy(block, arns, queue_name),
        },
        "schedule": {
            "name": function_name,
            "description": f"Runs the Athena Partition Refresh of {prefix} {block.refresh_interval}",
            "expression": block.refresh_interval,
            "state": "ENABLED" if block.enabled else "DISABLED",
        },
        "alerts_bucket": alerts_bucket,
        "database": block.database_name,
        "alerts_table": {
            "name": ALERTS_TABLE,
            "location": f"s3://{alerts_bucket}/{ALERTS_KEY_PREFIX}/",
            "columns": [{"name": name, "type": kind} for name, kind in ALERTS_TABLE_COLUMNS],
            "partition_keys": [{"name": name, "type": kind} for name, kind in ALERTS_PARTITION_KEYS],
        },
        "results_bucket": {"name": block.results_bucket, "expiration_days": ATHENA_RESULTS_EXPIRATION_DAYS},
        "workgroup": {"name": workgroup, "output_location": f"s3://{block.results_bucket}/refresh/"},
        "owned_buckets": sorted({alerts_bucket, block.results_bucket}),
        "protected": list(ATHENA_PROTECTED_RESOURCES),
        "notifications": [
            {
                "bucket": route.source.bucket,
                "id": f"{ATHENA_MODULE}:{route.source}",
                "filter_prefix": route.source.filter_prefix,
            }
            for route in sorted(block.routes, key=lambda route: route.source)
        ],
    }


def _queue_policy(block: AthenaRefreshConfig, arns: _Arns, queue_name: str) -> dict[str, Any]:
    """Only the configured buckets, and only in this account, may send to the queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConfiguredDataBucketsSendNotifications",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arns.regional("sqs", queue_name),
                "Condition": {
                    "ArnLike": {"aws:SourceArn": [arns.bucket(bucket) for bucket in block.buckets]},
                    "StringEquals": {"aws:SourceAccount": arns.account},
                },
            }
        ],
    }


def _refresh_policy(
    block: AthenaRefreshConfig, arns: _Arns, queue_name: str, log_group: str, workgroup: str
) -> dict[str, Any]:
    """The actions the refresh code calls, on what it touches. Athena DDL and MSCK run with the caller's
    rights, so the catalog actions of ADD PARTITION / MSCK and reads of the data are granted too."""
    database = block.database_name
    statements: list[dict[str, Any]] = [
        _allow(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [arns.regional("logs", f"log-group:{log_group}:*")],
        ),
        _allow(
            "DrainNotificationQueue",
            ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            [arns.regional("sqs", queue_name)],
        ),
        _allow(
            "ReadTablesAndRegisterPartitions",
            [
                "glue:BatchCreatePartition",
                "glue:BatchGetPartition",
                "glue:CreatePartition",
                "glue:GetDatabase",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:GetTable",
            ],
            [
                arns.regional("glue", "catalog"),
                arns.regional("glue", f"database/{database}"),
                arns.regional("glue", f"table/{database}/*"),
            ],
        ),
    ]
    athena_routes = [
        route for route in block.routes if route.refresh_type is not RefreshType.ADD_GLUE_PARTITION
    ]
    if athena_routes:
        statements.extend(_athena_statements(athena_routes, block.results_bucket, arns, workgroup))
    return {"Version": "2012-10-17", "Statement": statements}


def _athena_statements(
    routes: Sequence[TableRoute], results_bucket: str, arns: _Arns, workgroup: str
) -> list[dict[str, Any]]:
    """Running ADD PARTITION and MSCK statements: the workgroup, reads of the routes' data, the results."""
    buckets = sorted({route.source.bucket for route in routes})
    data_objects = sorted(
        {arns.bucket(f"{route.source.bucket}/{route.source.filter_prefix}*") for route in routes}
    )
    return [
        _allow(
            "RunRefreshStatements",
            [
                "athena:BatchGetQueryExecution",
                "athena:GetQueryExecution",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
            ],
            [arns.regional("athena", f"workgroup/{workgroup}")],
        ),
        _allow(
            "ListDataBuckets",
            ["s3:GetBucketLocation", "s3:ListBucket"],
            [arns.bucket(bucket) for bucket in buckets],
        ),
        _allow("ReadDataObjects", ["s3:GetObject"], data_objects),
        _allow(
            "ListQueryResults",
            ["s3:GetBucketLocation", "s3:ListBucket"],
            [arns.bucket(results_bucket)],
        ),
        _allow(
            "WriteQueryResults",
            ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            [arns.bucket(f"{results_bucket}/*")],
        ),
    ]


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def shared_context(config: Config, target: DeployTarget, modules: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The context of ``shared.tf.j2``: provider, backend, the processors' modules, and one S3 notification
    per data bucket merging every module's queue of that bucket (S3 keeps one configuration per bucket)."""
    owned = {bucket for module in modules for bucket in module["owned_buckets"]}
    notifications = _bucket_notifications(modules)
    stand_ins = []
    if target.local:
        stand_ins = [
            {"resource": f"local_{entry['resource']}", "bucket": entry["bucket"]}
            for entry in notifications
            if entry["bucket"] not in owned
        ]
    stand_in_by_bucket = {entry["bucket"]: entry["resource"] for entry in stand_ins}
    for entry in notifications:
        entry["stand_in"] = stand_in_by_bucket.get(entry["bucket"])
    state_bucket, state_key = state_location(config)
    return {
        "local": target.local,
        "region": config.account.region,
        "account_id": config.account.aws_account_id,
        "prefix": config.account.prefix,
        "backend": {"bucket": state_bucket, "key": state_key, "region": config.account.region},
        "endpoint_services": list(LOCAL_ENDPOINT_SERVICES),
        "modules": [{"name": module["module"], "source": f"./{module['module']}"} for module in modules],
        "notifications": notifications,
        "stand_in_buckets": stand_ins,
    }


def _bucket_notifications(modules: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_bucket: dict[str, list[dict[str, Any]]] = {}
    for module in modules:
        for entry in module["notifications"]:
            queue = {
                "id": entry["id"],
                "module": module["module"],
                "events": [S3_OBJECT_CREATED],
                "filter_prefix": entry["filter_prefix"],
            }
            by_bucket.setdefault(entry["bucket"], []).append(queue)
    notifications = []
    used: set[str] = set()
    for bucket in sorted(by_bucket):
        resource = _resource_name(bucket, used)
        queues = by_bucket[bucket]
        notifications.append(
            {
                "resource": resource,
                "bucket": bucket,
                "queues": queues,
                "modules": sorted({queue["module"] for queue in queues}),
            }
        )
    return notifications


def _resource_name(bucket: str, used: set[str]) -> str:
    """A Terraform resource name for a bucket (dots and hyphens become underscores), unique in ``used``."""
    base = "bucket_" + _NOT_IDENTIFIER.sub("_", bucket)
    name, counter = base, 2
    while name in used:
        name, counter = f"{base}_{counter}", counter + 1
    used.add(name)
    return name
