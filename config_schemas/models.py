"""The typed, frozen configuration that the schemas produce and every caller reads."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field


class RefreshType(enum.Enum):
    """How a table learns about new data."""

    REPAIR_HIVE_TABLE = "repair_hive_table"
    ADD_HIVE_PARTITION = "add_hive_partition"
    ADD_GLUE_PARTITION = "add_glue_partition"

    @property
    def computes_partitions(self) -> bool:
        """True where partitions are worked out from object keys (not discovered by MSCK)."""
        return self is not RefreshType.REPAIR_HIVE_TABLE


@dataclass(frozen=True, order=True)
class Source:
    """A bucket, or a folder of a bucket (``prefix`` holds whole path segments, no slashes at its ends)."""

    bucket: str
    prefix: str = ""

    def matches(self, key: str) -> bool:
        """True when the key lies under this source, by whole segments.

        ``a/b`` takes ``a/b/x``, not ``a/bc``.
        """
        if not self.prefix:
            return True
        return key.startswith(self.prefix) and key[len(self.prefix) : len(self.prefix) + 1] == "/"

    def overlaps(self, other: Source) -> bool:
        """True when one source's objects can fall under the other (S3 refuses such notification filters)."""
        if self.bucket != other.bucket:
            return False
        shorter, longer = sorted((self.prefix, other.prefix), key=len)
        return not shorter or longer == shorter or longer.startswith(shorter + "/")

    @property
    def filter_prefix(self) -> str:
        """The S3 notification filter prefix for this source ('' for a whole bucket)."""
        return f"{self.prefix}/" if self.prefix else ""

    def __str__(self) -> str:
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket


@dataclass(frozen=True)
class TableRoute:
    """One configured mapping: objects of ``source`` belong to ``table``, refreshed by ``refresh_type``."""

    source: Source
    table: str
    refresh_type: RefreshType


class TableFormat(enum.Enum):
    """How a created table's objects are written: JSON lines (the default) or Parquet."""

    JSON = "json"
    PARQUET = "parquet"


class TableLayout(enum.Enum):
    """How a table's objects are laid out in folders, which gives its partition keys.

    ``firehose``: ``<source>/YYYY/MM/DD/HH/``, one key ``dt`` = ``YYYY-MM-DD-HH``;
    ``hive``: ``<source>/name=value/...`` folders, the keys named in order.
    """

    FIREHOSE = "firehose"
    HIVE = "hive"


@dataclass(frozen=True)
class Projection:
    """Partition projection of a table whose one partition key is the hour ``dt``: Athena computes the
    partitions of ``source`` from ``start`` to now, nothing is registered and no notification is sent."""

    source: Source
    start: datetime.date


@dataclass(frozen=True)
class TableDeclaration:
    """One entry of the refresh block's ``tables``: created by the deploy from the log type ``log`` of
    ``logs.json``, or ``existing`` (``log`` None), which the deploy checks and never changes. ``layout``
    is None for an existing table whose layout is not declared (its keys are checked by the refresh)."""

    name: str
    log: str | None
    layout: TableLayout | None = TableLayout.FIREHOSE
    partition_keys: tuple[str, ...] = ("dt",)
    format: TableFormat = TableFormat.JSON
    projection: Projection | None = None

    @property
    def existing(self) -> bool:
        return self.log is None


@dataclass(frozen=True)
class Account:
    aws_account_id: str
    prefix: str
    region: str


@dataclass(frozen=True)
class TerraformSettings:
    """``global.json``'s optional ``terraform`` block: where the S3 backend keeps the deployment's state.
    None means the default: bucket ``<prefix>-streamalert-terraform-state``,
    key ``streamalert/terraform.tfstate``."""

    state_bucket: str | None = None
    state_key: str | None = None


class NotificationMode(enum.Enum):
    """How a data bucket announces new objects to the deployment: entries of its S3 notification
    configuration (the default), or EventBridge (the bucket's notifications are left as they are)."""

    S3 = "s3"
    EVENTBRIDGE = "eventbridge"


@dataclass(frozen=True)
class BucketSettings:
    """One entry of ``global.json``'s ``buckets``: settings of a data bucket the deployment reads."""

    name: str
    notifications: NotificationMode = NotificationMode.S3


@dataclass(frozen=True)
class GlobalConfig:
    """``global.json``. ``source_bucket`` (None: ``<prefix>-streamalert-source``) receives the Lambda zips;
    ``buckets``: data buckets with settings of their own, sorted by name."""

    account: Account
    terraform: TerraformSettings = field(default_factory=TerraformSettings)
    source_bucket: str | None = None
    buckets: tuple[BucketSettings, ...] = ()

    def notification_mode(self, bucket: str) -> NotificationMode:
        """How the bucket announces new objects (``s3`` unless ``buckets`` says otherwise)."""
        settings = next((entry for entry in self.buckets if entry.name == bucket), None)
        return NotificationMode.S3 if settings is None else settings.notifications


class Trigger(enum.Enum):
    """What invokes the refresh: its schedule (each run drains the queue) or the queue itself (an SQS event
    source mapping hands the function batches of notifications as they arrive)."""

    SCHEDULE = "schedule"
    QUEUE = "queue"


@dataclass(frozen=True)
class EventSourceSettings:
    """The refresh block's ``event_source``: how the queue trigger's event source mapping batches (up to
    ``batch_size`` messages, waiting up to ``maximum_batching_window_seconds`` to fill a batch) and how many
    invocations it runs at once (``maximum_concurrency``). Read only when the trigger is the queue."""

    batch_size: int
    maximum_batching_window_seconds: int
    maximum_concurrency: int


# The defaults, and why: config_schemas/trigger.py
DEFAULT_EVENT_SOURCE = EventSourceSettings(
    batch_size=1000, maximum_batching_window_seconds=10, maximum_concurrency=5
)


@dataclass(frozen=True)
class FunctionSettings:
    """What every function's block of ``lambda.json`` sets: whether it runs, how much it logs, its memory
    (MB) and timeout (seconds). Each block derives from it, so callers read ``block.timeout``."""

    enabled: bool
    log_level: str
    memory: int
    timeout: int


@dataclass(frozen=True)
class AthenaRefreshConfig(FunctionSettings):
    """The ``athena_partition_refresh_config`` block of ``lambda.json``, ``<prefix>`` already substituted."""

    refresh_interval: str
    routes: tuple[TableRoute, ...]
    database_name: str
    results_bucket: str
    declared_tables: tuple[TableDeclaration, ...] = ()
    trigger: Trigger = Trigger.SCHEDULE
    event_source: EventSourceSettings = DEFAULT_EVENT_SOURCE

    @property
    def tables(self) -> tuple[str, ...]:
        """Every configured table, once, in config order."""
        return tuple(dict.fromkeys(route.table for route in self.routes))

    @property
    def buckets(self) -> tuple[str, ...]:
        """Every configured data bucket, once, sorted."""
        return tuple(sorted({route.source.bucket for route in self.routes}))

    def declared(self, table: str) -> TableDeclaration | None:
        """The ``tables`` entry of ``table``, or None (the built-in ``alerts`` table has none)."""
        return next((entry for entry in self.declared_tables if entry.name == table), None)


@dataclass(frozen=True, order=True)
class BucketKey:
    """A KMS key that encrypts objects of a bucket (SSE-KMS): reading them needs ``kms:Decrypt`` on it."""

    bucket: str
    key_arn: str


@dataclass(frozen=True)
class RuleInputs:
    """What Terraform wires to the rule processor: buckets (or folders of them) and Kinesis streams.
    ``kms_keys``: keys named in the config for input buckets whose objects are written with a KMS key that
    the bucket's default encryption does not name (CloudTrail's trail key, for one)."""

    s3: tuple[Source, ...] = ()
    kinesis: tuple[str, ...] = ()
    kms_keys: tuple[BucketKey, ...] = ()


@dataclass(frozen=True)
class RuleProcessorConfig(FunctionSettings):
    """The ``rule_processor_config`` block of ``lambda.json``, ``<prefix>`` already substituted."""

    inputs: RuleInputs

    @property
    def buckets(self) -> tuple[str, ...]:
        """Every input bucket, once, sorted."""
        return tuple(sorted({source.bucket for source in self.inputs.s3}))


@dataclass(frozen=True)
class AlertProcessorConfig(FunctionSettings):
    """The ``alert_processor_config`` block of ``lambda.json``: ``outputs`` always holds ``s3:alerts``."""

    outputs: tuple[str, ...]


@dataclass(frozen=True)
class LambdaConfig:
    athena_partition_refresh: AthenaRefreshConfig | None = None
    rule_processor: RuleProcessorConfig | None = None
    alert_processor: AlertProcessorConfig | None = None


class ValueType(enum.Enum):
    """The JSON type a log type requires of one of its keys."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"


@dataclass(frozen=True)
class LogType:
    """One entry of ``logs.json``: a record is of this type when it has every key, each of its type."""

    name: str
    schema: tuple[tuple[str, ValueType], ...]


@dataclass(frozen=True)
class LogsConfig:
    """``logs.json``: the log types, in file order (a record takes the first type it fits)."""

    log_types: tuple[LogType, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(log_type.name for log_type in self.log_types)


@dataclass(frozen=True)
class Config:
    """Everything under ``conf/``, validated."""

    global_config: GlobalConfig
    lambda_config: LambdaConfig = field(default_factory=LambdaConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)

    @property
    def account(self) -> Account:
        return self.global_config.account

    @property
    def athena_refresh(self) -> AthenaRefreshConfig | None:
        return self.lambda_config.athena_partition_refresh

    @property
    def rule_processor(self) -> RuleProcessorConfig | None:
        return self.lambda_config.rule_processor

    @property
    def alert_processor(self) -> AlertProcessorConfig | None:
        return self.lambda_config.alert_processor
