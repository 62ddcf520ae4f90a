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

from config_schemas.models import BucketKey, Config, FunctionSettings, Source
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
from streamalert.exceptions import StreamAlertError

if TYPE_CHECKING:
    from streamalert_cli.processors import Processor

S3_OBJECT_CREATED = "s3:ObjectCreated:*"
# Where a module's S3 notifications go: its output ``queue_arn`` (SQS) or ``notified_function_arn`` (Lambda)
QUEUE_DESTINATION = "queue"
FUNCTION_DESTINATION = "function"
_DESTINATION_OUTPUTS = {QUEUE_DESTINATION: "queue_arn", FUNCTION_DESTINATION: "notified_function_arn"}
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
    encryption, read by the deploy's preflight); none on the local target."""

    local: bool
    input_keys: tuple[BucketKey, ...] = ()


AWS_TARGET = DeployTarget(local=False)


class NotificationConflictError(StreamAlertError):
    """Two consumers of one bucket whose notification filters overlap: S3 would refuse the configuration."""


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


@dataclass(frozen=True)
class BucketSubscription:
    """What a module wants of a bucket's S3 notification: objects created under ``filter_prefix`` go to
    its queue (``QUEUE_DESTINATION``) or its function (``FUNCTION_DESTINATION``)."""

    bucket: str
    id: str
    filter_prefix: str
    destination: str


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
class Destination:
    """One queue or function of a bucket's notification: a module's output, the events and the filter."""

    id: str
    module: str
    kind: str
    output: str
    events: tuple[str, ...]
    filter_prefix: str


@dataclass(frozen=True)
class BucketNotification:
    """The one notification configuration of a bucket (``resource`` its Terraform name), merging the
    destinations of every module reading it; ``stand_in`` names the local bucket standing in for it."""

    resource: str
    bucket: str
    queues: tuple[Destination, ...]
    functions: tuple[Destination, ...]
    modules: tuple[str, ...]
    stand_in: str | None = None


@dataclass(frozen=True)
class StandInBucket:
    """Local only: a bucket created to stand in for a data bucket that an AWS account already has."""

    resource: str
    bucket: str


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


def shared_context(config: Config, target: DeployTarget, modules: Sequence[ModuleContext]) -> SharedContext:
    """The context of ``shared.tf.j2``: provider, backend, the processors' modules, and one S3 notification
    per data bucket merging every module's queue or function of that bucket (S3 keeps one configuration per
    bucket). NotificationConflictError when two modules' filters of one bucket overlap."""
    owned = {bucket for module in modules for bucket in module.owned_buckets}
    notifications = _bucket_notifications(modules)
    stand_ins: tuple[StandInBucket, ...] = ()
    if target.local:
        stand_ins = tuple(
            StandInBucket(resource=f"local_{entry.resource}", bucket=entry.bucket)
            for entry in notifications
            if entry.bucket not in owned
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
    )


def _bucket_notifications(modules: Sequence[ModuleContext]) -> list[BucketNotification]:
    by_bucket: dict[str, list[Destination]] = {}
    for module in modules:
        for entry in module.notifications:
            destination = Destination(
                id=entry.id,
                module=module.module,
                kind=entry.destination,
                output=_DESTINATION_OUTPUTS[entry.destination],
                events=(S3_OBJECT_CREATED,),
                filter_prefix=entry.filter_prefix,
            )
            by_bucket.setdefault(entry.bucket, []).append(destination)
    notifications = []
    used: set[str] = set()
    for bucket in sorted(by_bucket):
        destinations = by_bucket[bucket]
        check_overlaps(bucket, destinations)
        notifications.append(
            BucketNotification(
                resource=_resource_name(bucket, used),
                bucket=bucket,
                queues=tuple(d for d in destinations if d.kind == QUEUE_DESTINATION),
                functions=tuple(d for d in destinations if d.kind == FUNCTION_DESTINATION),
                modules=tuple(sorted({d.module for d in destinations})),
            )
        )
    return notifications


def check_overlaps(bucket: str, destinations: Sequence[Destination]) -> None:
    """Refuse filters of one event that overlap on a bucket (one prefix starts the other): S3 rejects the
    whole configuration at apply time. Overlaps within one processor are the config schema's to report."""
    for index, first in enumerate(destinations):
        for second in destinations[index + 1 :]:
            if first.module == second.module or not set(first.events) & set(second.events):
                continue
            shorter, longer = sorted((first.filter_prefix, second.filter_prefix), key=len)
            if longer.startswith(shorter):
                raise NotificationConflictError(
                    f"bucket {bucket}: the {first.module} source {_shown(bucket, first)} and the "
                    f"{second.module} source {_shown(bucket, second)} overlap, and S3 keeps one "
                    "destination per object event: give one of them another bucket or a folder the other "
                    "does not contain"
                )


def _shown(bucket: str, destination: Destination) -> str:
    prefix = destination.filter_prefix.rstrip("/")
    return f"{bucket}/{prefix}" if prefix else bucket


def _resource_name(bucket: str, used: set[str]) -> str:
    """A Terraform resource name for a bucket (dots and hyphens become underscores), unique in ``used``."""
    base = "bucket_" + _NOT_IDENTIFIER.sub("_", bucket)
    name, counter = base, 2
    while name in used:
        name, counter = f"{base}_{counter}", counter + 1
    used.add(name)
    return name
