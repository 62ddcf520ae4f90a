"""What each template is given: one function per Terraform module builds its context from the config
(``<module>_context.py`` beside this one); here are the pieces they share and the root module's context.

A context is a frozen dataclass (templates read its attributes, and so does the CLI: destroy's protected
resources, the targets of a plan). Templates only place these values; every name, ARN, policy and list is
decided in Python, where it is unit-tested. IAM and queue policies stay JSON documents (dicts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from config_schemas.models import BucketKey, Config, FunctionSettings, NotificationMode, Source
from streamalert.constants import (
    DEFAULT_TERRAFORM_STATE_KEY,
    LAMBDA_ALIAS,
    LAMBDA_ARCHITECTURE,
    LAMBDA_LOG_RETENTION_DAYS,
    LAMBDA_RUNTIME,
    alarms_topic_name,
    source_bucket_name,
    terraform_state_bucket_name,
)
from streamalert_cli.terraform.notifications import (
    FUNCTION_DESTINATION,
    QUEUE_DESTINATION,
    S3_OBJECT_CREATED,
    BucketNotification,
    BucketState,
    BucketSubscription,
    Destination,
    EventRule,
    ModuleSubscriptions,
    NotificationConflictError,
    bucket_notifications,
    check_overlaps,
)

if TYPE_CHECKING:
    from streamalert_cli.processors import Processor

# The notification pieces every module context uses, defined in notifications.py
__all__ = [
    "FUNCTION_DESTINATION",
    "QUEUE_DESTINATION",
    "S3_OBJECT_CREATED",
    "BucketNotification",
    "BucketState",
    "BucketSubscription",
    "Destination",
    "EventRule",
    "NotificationConflictError",
    "check_overlaps",
]
# Every service the templates use: in local mode each one points at the emulator
LOCAL_ENDPOINT_SERVICES = (
    "athena",
    "cloudwatch",
    "events",
    "glue",
    "iam",
    "kinesis",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sns",
    "sqs",
    "sts",
)
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]")
# Alarms: evaluated over five minutes, quiet when there is no data (an idle queue or function)
ALARM_PERIOD_SECONDS = 300
SNS_MANAGED_KEY = "alias/aws/sns"
# In resources and condition values IAM reads ``*`` and ``?`` as wildcards and ``${...}`` as a policy
# variable; these stand for the characters themselves (policy version 2012-10-17)
_IAM_LITERALS = {"$": "${$}", "*": "${*}", "?": "${?}"}


@dataclass(frozen=True)
class DeployTarget:
    """Where a deployment goes: the embedded emulator (local state) or AWS (an S3 backend).
    ``input_keys``: the KMS keys of the data buckets as the AWS account tells them (their default
    encryption, read by the deploy's preflight); none on the local target. ``buckets``: what the data
    buckets' notification configurations hold that the deployment did not create, read before rendering
    (a bucket not there does not exist or was not read). ``withdrawn``: modules whose notification entries
    are left out (destroy hands the buckets back without them)."""

    local: bool
    input_keys: tuple[BucketKey, ...] = ()
    buckets: tuple[BucketState, ...] = ()
    withdrawn: tuple[str, ...] = ()


AWS_TARGET = DeployTarget(local=False)


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


@dataclass(frozen=True)
class FunctionContext:
    """A processor's function, its ``production`` alias, its role and the role's policy."""

    name: str
    description: str
    handler: str
    runtime: str
    architecture: str
    memory: int
    timeout: int
    alias: str
    role_name: str
    policy_name: str
    policy: dict[str, Any]


@dataclass(frozen=True)
class LogGroupContext:
    name: str
    retention_days: int


@dataclass(frozen=True)
class AlarmContext:
    """A CloudWatch alarm on one metric, notifying the deployment's topic."""

    resource: str
    name: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str
    period: int
    threshold: int


@dataclass(frozen=True)
class QueueContext:
    """A queue a function reads, and the dead-letter queue its messages go to after their receives."""

    name: str
    dead_letter_name: str
    retention_seconds: int
    visibility_timeout: int
    max_receive_count: int


# A received message stays hidden for this many function timeouts: AWS's advice for a queue that an event
# source mapping reads (time for Lambda to retry a throttled batch), kept by the scheduled refresh too
VISIBILITY_TIMEOUTS = 6
# The answer with which a function reports the messages of its batch that failed (the others are deleted)
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


def visibility_timeout(function_timeout: int, batching_window_seconds: int = 0) -> int:
    """The visibility timeout of a queue a function reads: six function timeouts, plus the event source's
    batching window (AWS's guidance: a message waits in its batch that long before the function runs)."""
    return VISIBILITY_TIMEOUTS * function_timeout + batching_window_seconds


@dataclass(frozen=True, kw_only=True)
class ModuleContext:
    """What every processor's template is given; each module's context adds its own resources.
    ``owned_buckets``: buckets the module creates (no local stand-in); ``protected``: resources destroy
    keeps; ``notifications``: what the root module merges into each bucket's notification."""

    module: str
    tags: dict[str, str]
    function: FunctionContext
    log_group: LogGroupContext
    alarms: tuple[AlarmContext, ...]
    owned_buckets: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    notifications: tuple[BucketSubscription, ...] = ()


def module_tags(processor: Processor, prefix: str) -> dict[str, str]:
    """The tags of every resource of a processor's module."""
    return {"streamalert:deployment": prefix, "streamalert:processor": processor.cli_name}


def function_context(
    processor: Processor, prefix: str, settings: FunctionSettings, *, policy: dict[str, Any]
) -> FunctionContext:
    """What every processor's function, alias and role take: its names, runtime, sizes (the block's
    common settings) and policy."""
    function_name = processor.function_name(prefix)
    return FunctionContext(
        name=function_name,
        description=f"StreamAlert {processor.title} ({prefix})",
        handler=processor.handler,
        runtime=LAMBDA_RUNTIME,
        architecture=LAMBDA_ARCHITECTURE,  # the vendored compiled wheels are built for it
        memory=settings.memory,
        timeout=settings.timeout,
        alias=LAMBDA_ALIAS,
        role_name=function_name,
        policy_name=f"{function_name}_least_privilege",
        policy=policy,
    )


def missing_block(processor: Processor) -> Exception:
    """The error of a context built for a processor that ``lambda.json`` does not configure (imported
    here, not at the top: the config loader needs marshmallow, and ``--help`` runs without it)."""
    from streamalert.config import MissingBlockError

    return MissingBlockError(processor.config_block)


def log_group_context(name: str) -> LogGroupContext:
    """A function's log group, with the retention every processor keeps."""
    return LogGroupContext(name=name, retention_days=LAMBDA_LOG_RETENTION_DAYS)


def dead_letter_alarm(queue_name: str) -> AlarmContext:
    """An alarm as soon as a dead-letter queue holds a message: something failed every retry."""
    return AlarmContext(
        resource="dead_letters_not_empty",
        name=f"{queue_name}_not_empty",
        description=f"{queue_name} holds messages that failed every retry: look, fix, redrive",
        namespace="AWS/SQS",
        metric="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": queue_name},
        statistic="Maximum",
        period=ALARM_PERIOD_SECONDS,
        threshold=0,
    )


def source_bucket(config: Config) -> str:
    """The bucket the Lambda zips are uploaded to."""
    return config.global_config.source_bucket or source_bucket_name(config.account.prefix)


def state_location(config: Config) -> tuple[str, str]:
    """The (bucket, key) of the S3 backend that deployments to AWS keep their state in."""
    settings = config.global_config.terraform
    bucket = settings.state_bucket or terraform_state_bucket_name(config.account.prefix)
    return bucket, settings.state_key or DEFAULT_TERRAFORM_STATE_KEY


class Arns:
    """ARN builders of one account and region (every module context builds its ARNs with these)."""

    def __init__(self, config: Config) -> None:
        self.partition = aws_partition(config.account.region)
        self.region = config.account.region
        self.account = config.account.aws_account_id

    def bucket(self, name: str) -> str:
        return f"arn:{self.partition}:s3:::{name}"

    def regional(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def log_group(self, name: str) -> str:
        """The log streams of a log group (what CreateLogStream and PutLogEvents act on)."""
        return self.regional("logs", f"log-group:{name}:*")

    def glue_tables(self, database: str, tables: Iterable[str]) -> list[str]:
        """What Glue's table and partition actions are authorized on: the catalog, the database and each
        named table (never ``table/<database>/*``: a database name may be shared within an account)."""
        return [
            self.regional("glue", "catalog"),
            self.regional("glue", f"database/{database}"),
            *(self.regional("glue", f"table/{database}/{table}") for table in sorted(set(tables))),
        ]


def allow(
    sid: str, actions: list[str], resources: list[str], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
    return statement if condition is None else {**statement, "Condition": condition}


def iam_literal(text: str) -> str:
    """Text that IAM matches as it is, in a resource or a condition value: wildcards and ``$`` escaped."""
    return "".join(_IAM_LITERALS.get(char, char) for char in text)


def prefixes_by_bucket(sources: Iterable[Source]) -> dict[str, tuple[str, ...]]:
    """Bucket -> the prefixes its sources read, sorted; ``()`` for a bucket a source reads whole."""
    sources = list(sources)
    whole = {source.bucket for source in sources if not source.prefix}
    return {
        bucket: () if bucket in whole else tuple(sorted({s.prefix for s in sources if s.bucket == bucket}))
        for bucket in sorted({source.bucket for source in sources})
    }


def object_arns(arns: Arns, sources: Iterable[Source]) -> list[str]:
    """The objects of the sources: ``bucket/*`` for a bucket read whole, ``bucket/<prefix>/*`` otherwise."""
    return [
        arns.bucket(f"{bucket}/{iam_literal(prefix + '/') if prefix else ''}*")
        for bucket, prefixes in prefixes_by_bucket(sources).items()
        for prefix in prefixes or ("",)
    ]


def list_bucket_statements(sid: str, arns: Arns, sources: Iterable[Source]) -> list[dict[str, Any]]:
    """``s3:ListBucket`` on the sources' buckets: ``<sid>Buckets`` on the buckets read whole, and for each
    bucket read by prefixes one ``<sid>Folders<n>`` whose listings must stay in them (``s3:prefix``: the
    folder itself, ``prefix/``, or anything under it)."""
    by_bucket = prefixes_by_bucket(sources)
    whole = [arns.bucket(bucket) for bucket, prefixes in by_bucket.items() if not prefixes]
    statements = [allow(f"{sid}Buckets", ["s3:ListBucket"], whole)] if whole else []
    folders = [(bucket, prefixes) for bucket, prefixes in by_bucket.items() if prefixes]
    for index, (bucket, prefixes) in enumerate(folders, start=1):
        listed = [iam_literal(p) + suffix for p in prefixes for suffix in ("", "/", "/*")]
        statements.append(
            allow(
                f"{sid}Folders{index}",
                ["s3:ListBucket"],
                [arns.bucket(bucket)],
                {"StringLike": {"s3:prefix": listed}},
            )
        )
    return statements


@dataclass(frozen=True)
class Backend:
    bucket: str
    key: str
    region: str


@dataclass(frozen=True)
class AlarmsTopic:
    name: str
    kms_key: str


@dataclass(frozen=True)
class ModuleCall:
    """A processor's module in the root module, by its name and folder."""

    name: str
    source: str


@dataclass(frozen=True)
class StandInBucket:
    """Local only: a bucket created to stand in for a data bucket that an AWS account already has; its tag
    ``STAND_IN_TAG`` (the deployment's prefix) tells a later deploy that the bucket is the deployment's."""

    resource: str
    bucket: str
    tags: dict[str, str]


STAND_IN_TAG = "streamalert:stand-in"


@dataclass(frozen=True)
class SharedContext:
    """The context of ``shared.tf.j2``, the root module."""

    local: bool
    region: str
    account_id: str
    backend: Backend
    endpoint_services: tuple[str, ...]
    alarms_topic: AlarmsTopic
    modules: tuple[ModuleCall, ...]
    notifications: tuple[BucketNotification, ...]
    stand_in_buckets: tuple[StandInBucket, ...]
    event_rules: tuple[EventRule, ...] = ()


def shared_context(config: Config, target: DeployTarget, modules: Sequence[ModuleContext]) -> SharedContext:
    """The context of ``shared.tf.j2``: provider, backend, the processors' modules, one S3 notification per
    data bucket merging every module's queue or function of that bucket with the entries of others (S3 keeps
    one configuration per bucket), and the EventBridge rules of EventBridge buckets (``notifications.py``).
    NotificationConflictError when entries of one bucket overlap.

    Locally, a data bucket the deployment does not create gets a stand-in bucket, unless it exists already
    and is no stand-in of this deployment (``target.buckets``)."""
    owned = {bucket for module in modules for bucket in module.owned_buckets}
    states = {state.bucket: state for state in target.buckets}
    eventbridge = {
        settings.name
        for settings in config.global_config.buckets
        if settings.notifications is NotificationMode.EVENTBRIDGE
    }
    notifications, rules = bucket_notifications(
        config.account.prefix,
        [ModuleSubscriptions(module.module, module.notifications) for module in modules],
        states,
        eventbridge,
        target.withdrawn,
    )
    stand_ins: tuple[StandInBucket, ...] = ()
    if target.local:
        stand_ins = tuple(
            StandInBucket(
                resource=f"local_{entry.resource}",
                bucket=entry.bucket,
                tags={STAND_IN_TAG: config.account.prefix},
            )
            for entry in notifications
            if entry.bucket not in owned and (entry.bucket not in states or states[entry.bucket].stand_in)
        )
    stand_in_by_bucket = {entry.bucket: entry.resource for entry in stand_ins}
    state_bucket, state_key = state_location(config)
    return SharedContext(
        local=target.local,
        region=config.account.region,
        account_id=config.account.aws_account_id,
        backend=Backend(bucket=state_bucket, key=state_key, region=config.account.region),
        endpoint_services=LOCAL_ENDPOINT_SERVICES,
        alarms_topic=AlarmsTopic(name=alarms_topic_name(config.account.prefix), kms_key=SNS_MANAGED_KEY),
        modules=tuple(ModuleCall(name=module.module, source=f"./{module.module}") for module in modules),
        notifications=tuple(
            replace(entry, stand_in=stand_in_by_bucket.get(entry.bucket)) for entry in notifications
        ),
        stand_in_buckets=stand_ins,
        event_rules=rules,
    )
