"""The schema of ``conf/lambda.json``: one optional block per function."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import ValidationError, post_load, validates_schema

from config_schemas.fields import (
    SourceTableMap,
    StrictBoolean,
    StrictField,
    StrictInteger,
    StrictList,
    StrictNested,
    StrictSchema,
    StrictString,
    bucket_name_problem,
    describe,
    identifier_problem,
    parse_source,
    stream_name_problem,
)
from config_schemas.models import (
    AlertProcessorConfig,
    AthenaRefreshConfig,
    BucketKey,
    LambdaConfig,
    RefreshType,
    RuleInputs,
    RuleProcessorConfig,
    TableRoute,
)
from config_schemas.schedule import schedule_problem
from config_schemas.tables_config import TABLES_KEY, TablesField, route_problems
from config_schemas.trigger import TriggerSettingsSchema
from streamalert.constants import (
    ALERT_OUTPUTS,
    ALERTS_S3_OUTPUT,
    DEFAULT_DATABASE,
    DEFAULT_REFRESH_INTERVAL,
)

ATHENA_BLOCK = "athena_partition_refresh_config"
RULE_PROCESSOR_BLOCK = "rule_processor_config"
ALERT_PROCESSOR_BLOCK = "alert_processor_config"
REFRESH_TYPE_KEY = "refresh_type"
INPUTS_KEY = "inputs"
KMS_KEYS_KEY = "kms_keys"
LOG_LEVELS = ("info", "debug")
# An IAM policy grants kms:Decrypt on a key's ARN: an alias or a bare key id names no resource there
_KMS_KEY_ARN = re.compile(r"arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:key/[A-Za-z0-9-]{1,128}")
_KMS_KEY_EXPECTATION = (
    "must be the ARN of a KMS key, arn:aws:kms:<region>:<account>:key/<key id> (an alias or a key id "
    "cannot be granted in a policy)"
)
_SCHEDULE_EXPECTATION = "must be a schedule expression, rate(N minutes|hours|days) or cron(...)"


def _log_level_problem(level: str) -> str | None:
    if level in LOG_LEVELS:
        return None
    return f'must be "info" or "debug", got {describe(level)}'


def _database_problem(name: str) -> str | None:
    return identifier_problem(name, "database")


def _schedule_problem(expression: str) -> str | None:
    problem = schedule_problem(expression)
    if problem is None:
        return None
    return f"{_SCHEDULE_EXPECTATION}, got {describe(expression)}: {problem}"


class RefreshTypeSchema(StrictSchema):
    """``refresh_type``: for each way of refreshing, which sources feed which table; loads as routes."""

    repair_hive_table = SourceTableMap(RefreshType.REPAIR_HIVE_TABLE, load_default=tuple)
    add_hive_partition = SourceTableMap(RefreshType.ADD_HIVE_PARTITION, load_default=tuple)
    add_glue_partition = SourceTableMap(RefreshType.ADD_GLUE_PARTITION, load_default=tuple)

    @validates_schema(skip_on_field_errors=True)
    def check_one_type_a_table(self, data: dict[str, Any], **kwargs: Any) -> None:
        """A table is refreshed one way: its keys are checked, and its partitions written, by that way."""
        types_of: dict[str, list[str]] = {}
        for refresh_type in RefreshType:
            for route in data.get(refresh_type.value, ()):
                kinds = types_of.setdefault(route.table, [])
                if refresh_type.value not in kinds:
                    kinds.append(refresh_type.value)
        errors: dict[str, list[str]] = {}
        for table, kinds in types_of.items():
            if len(kinds) > 1:
                errors.setdefault(kinds[-1], []).append(
                    f"table {table!r} is also refreshed by {' and '.join(kinds[:-1])}: "
                    "a table is refreshed one way, name it under one refresh type"
                )
        if errors:
            raise ValidationError(errors)

    @post_load
    def make_routes(self, data: dict[str, Any], **kwargs: Any) -> tuple[TableRoute, ...]:
        return tuple(route for refresh_type in RefreshType for route in data[refresh_type.value])


class FunctionSettingsSchema(StrictSchema):
    """``enabled``, ``log_level``, ``memory`` and ``timeout``: the keys every function's block has (loaded
    into ``models.FunctionSettings``). Each block's schema derives from it and names its own defaults."""

    default_memory: ClassVar[int] = 128
    default_timeout: ClassVar[int] = 60

    enabled = StrictBoolean(load_default=True)
    log_level = StrictString('must be "info" or "debug"', check=_log_level_problem, load_default="info")
    memory = StrictInteger(128, 10240)
    timeout = StrictInteger(1, 900)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # marshmallow copies the declared fields into each instance: these defaults stay the block's own
        self.fields["memory"].load_default = self.default_memory
        self.fields["timeout"].load_default = self.default_timeout


class AthenaRefreshConfigSchema(TriggerSettingsSchema, FunctionSettingsSchema):
    """``athena_partition_refresh_config``: every key optional with a documented default, except that
    ``refresh_type`` must map at least one source. ``results_bucket`` is required here: the loader fills in
    its default, ``<prefix>-streamalert-athena-results``, with the prefix (``placeholders``). The trigger's
    keys (``trigger``, ``event_source``) are ``TriggerSettingsSchema``'s."""

    refresh_interval = StrictString(
        _SCHEDULE_EXPECTATION,
        check=_schedule_problem,
        load_default=DEFAULT_REFRESH_INTERVAL,
    )
    routes = StrictNested(RefreshTypeSchema, data_key=REFRESH_TYPE_KEY, load_default=tuple)
    database_name = StrictString(
        "must be a database name", check=_database_problem, load_default=DEFAULT_DATABASE
    )
    results_bucket = StrictString("must be an S3 bucket name", check=bucket_name_problem, required=True)
    declared_tables = TablesField(data_key=TABLES_KEY, load_default=tuple)

    @validates_schema(skip_on_field_errors=True)
    def check_tables(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Every routed table is ``alerts``, created or existing (``tables``), in a layout its refresh
        type registers; every declared table is fed by a source or projected (``tables_config``)."""
        by_route, by_table = route_problems(data["routes"], data["declared_tables"])
        errors: dict[str, Any] = {}
        for (kind, source), problems in by_route.items():
            errors.setdefault(REFRESH_TYPE_KEY, {}).setdefault(kind, {})[source] = problems
        if by_table:
            errors[TABLES_KEY] = by_table
        if errors:
            raise ValidationError(errors)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_some_source(self, data: dict[str, Any], original_data: Any, **kwargs: Any) -> None:
        """Count the sources in the raw block, so that a mapped but invalid source does not count as none."""
        refresh_type = original_data.get(REFRESH_TYPE_KEY, {}) if isinstance(original_data, Mapping) else None
        if not isinstance(refresh_type, Mapping):
            return
        maps = [refresh_type.get(kind.value, {}) for kind in RefreshType]
        if all(isinstance(sources, Mapping) and not sources for sources in maps):
            kinds = ", ".join(kind.value for kind in RefreshType)
            raise ValidationError(f"must map at least one source to a table (in {kinds})", "routes")

    @post_load
    def make_athena_refresh_config(self, data: dict[str, Any], **kwargs: Any) -> AthenaRefreshConfig:
        return AthenaRefreshConfig(**data)


def _parse_stream(name: Any) -> str:
    if not isinstance(name, str):
        raise ValueError(f"a stream name must be a string, got {describe(name)}")
    problem = stream_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def _parse_output(name: Any) -> str:
    if name not in ALERT_OUTPUTS:
        allowed = ", ".join(f'"{output}"' for output in ALERT_OUTPUTS)
        raise ValueError(f"must be one of {allowed}, got {describe(name)}")
    return str(name)


class BucketKeyMap(StrictField[tuple[BucketKey, ...]]):
    """``{bucket: key ARN}``, loaded as ``BucketKey`` entries sorted by bucket."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("must be an object mapping input buckets to the ARNs of their KMS keys", **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[BucketKey, ...]:
        if not isinstance(value, Mapping):
            raise self.refuse(value)
        errors = {
            bucket: [f"{_KMS_KEY_EXPECTATION}, got {describe(arn)}"]
            for bucket, arn in value.items()
            if not (isinstance(arn, str) and _KMS_KEY_ARN.fullmatch(arn))
        }
        if errors:
            raise ValidationError(errors)
        return tuple(sorted(BucketKey(bucket, arn) for bucket, arn in value.items()))


class RuleInputsSchema(StrictSchema):
    """``inputs``: the buckets (or bucket/folder sources) and Kinesis streams that Terraform wires to the
    rule processor, and the KMS keys of input buckets that the deploy cannot learn from the bucket's default
    encryption. Repeats and overlaps are checked by ``ConfigSchema``, with the refresh's sources."""

    s3 = StrictList("must be an array of sources (bucket or bucket/prefix)", parse_source, load_default=tuple)
    kinesis = StrictList("must be an array of Kinesis stream names", _parse_stream, load_default=tuple)
    kms_keys = BucketKeyMap(load_default=tuple)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_keys_of_input_buckets(self, data: dict[str, Any], original_data: Any, **kwargs: Any) -> None:
        """A key is given for a bucket of ``s3`` (the rule processor reads no other), checked on the raw map
        so that a bucket whose key is invalid is checked too; not when ``s3`` itself is invalid."""
        keys = original_data.get(KMS_KEYS_KEY) if isinstance(original_data, Mapping) else None
        if "s3" not in data or not isinstance(keys, Mapping):
            return
        buckets = {source.bucket for source in data["s3"]}
        errors = {
            bucket: [f"is not a bucket of {INPUTS_KEY}.s3: keys are given for the buckets listed there"]
            for bucket in keys
            if bucket not in buckets
        }
        if errors:
            raise ValidationError({KMS_KEYS_KEY: errors})

    @post_load
    def make_inputs(self, data: dict[str, Any], **kwargs: Any) -> RuleInputs:
        return RuleInputs(**data)


class RuleProcessorConfigSchema(FunctionSettingsSchema):
    """``rule_processor_config``: every key optional with a documented default, except that ``inputs``
    must name at least one bucket or stream."""

    default_memory = 256
    default_timeout = 120

    inputs = StrictNested(RuleInputsSchema, load_default=RuleInputs)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_some_input(self, data: dict[str, Any], original_data: Any, **kwargs: Any) -> None:
        """Count the inputs in the raw block, so that a listed but invalid input does not count as none."""
        inputs = original_data.get(INPUTS_KEY, {}) if isinstance(original_data, Mapping) else None
        if not isinstance(inputs, Mapping):
            return
        lists = [inputs.get("s3", []), inputs.get("kinesis", [])]
        if all(isinstance(listed, list) and not listed for listed in lists):
            raise ValidationError("must list at least one bucket (s3) or stream (kinesis)", INPUTS_KEY)

    @post_load
    def make_rule_processor_config(self, data: dict[str, Any], **kwargs: Any) -> RuleProcessorConfig:
        return RuleProcessorConfig(**data)


class AlertProcessorConfigSchema(FunctionSettingsSchema):
    """``alert_processor_config``: every key optional with a documented default; ``outputs`` must hold
    ``s3:alerts``, the output that makes every alert searchable in Athena."""

    outputs = StrictList(
        "must be an array of output names", _parse_output, unique=True, load_default=(ALERTS_S3_OUTPUT,)
    )

    @validates_schema(skip_on_field_errors=False)
    def check_alerts_bucket_output(self, data: dict[str, Any], **kwargs: Any) -> None:
        outputs = data.get("outputs")
        if outputs is not None and ALERTS_S3_OUTPUT not in outputs:
            raise ValidationError(
                f'must include "{ALERTS_S3_OUTPUT}": every alert is written to the alerts bucket, '
                "which the Athena alerts table reads",
                "outputs",
            )

    @post_load
    def make_alert_processor_config(self, data: dict[str, Any], **kwargs: Any) -> AlertProcessorConfig:
        return AlertProcessorConfig(**data)


class LambdaConfigSchema(StrictSchema):
    """``lambda.json``: each function's block is optional; an unknown block is an error."""

    athena_partition_refresh = StrictNested(
        AthenaRefreshConfigSchema, data_key=ATHENA_BLOCK, load_default=None, allow_none=False
    )
    rule_processor = StrictNested(
        RuleProcessorConfigSchema, data_key=RULE_PROCESSOR_BLOCK, load_default=None, allow_none=False
    )
    alert_processor = StrictNested(
        AlertProcessorConfigSchema, data_key=ALERT_PROCESSOR_BLOCK, load_default=None, allow_none=False
    )

    @post_load
    def make_lambda_config(self, data: dict[str, Any], **kwargs: Any) -> LambdaConfig:
        return LambdaConfig(**data)
