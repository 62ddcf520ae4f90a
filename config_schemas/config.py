"""The schema of the whole ``conf/`` directory: every file at once, so that rules across files can be
checked (the results bucket is not the alerts bucket named from ``account.prefix``; a rule processor needs
log types). It takes ``lambda.json`` with ``<prefix>`` already replaced (``placeholders``)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, post_load, validates_schema
from marshmallow.exceptions import SCHEMA

from config_schemas.errors import ErrorPath, PathPart, add_error, format_path
from config_schemas.fields import (
    StrictNested,
    StrictSchema,
    bucket_name_problem,
    parse_source,
    stream_name_problem,
)
from config_schemas.files import GLOBAL_FILE, LAMBDA_FILE, LOGS_FILE
from config_schemas.global_config import BUCKETS_KEY, NOTIFICATIONS_KEY, GlobalConfigSchema, valid_prefix
from config_schemas.lambda_config import (
    ATHENA_BLOCK,
    INPUTS_KEY,
    REFRESH_TYPE_KEY,
    RULE_PROCESSOR_BLOCK,
    LambdaConfigSchema,
)
from config_schemas.logs_config import LogsConfigField
from config_schemas.models import (
    Config,
    GlobalConfig,
    LambdaConfig,
    LogsConfig,
    NotificationMode,
    RefreshType,
    Source,
)
from config_schemas.tables_config import TABLES_KEY, column_problems
from streamalert.constants import ATHENA_RESULTS_EXPIRATION_DAYS, alerts_bucket_name


@dataclass(frozen=True)
class _MappedSource:
    """A source as written in ``refresh_type`` or ``inputs.s3`` (its path in the block) and as it resolves;
    ``table`` is the table a ``refresh_type`` source feeds."""

    path: ErrorPath
    source: Source
    table: str | None = None


class ConfigSchema(StrictSchema):
    """Load ``{"global.json": ..., "lambda.json": ..., "logs.json": ...}`` into ``models.Config``, reporting
    every error. ``logs.json`` is optional.

    ``unreadable`` names files that exist but could not be read: the others are still checked (with
    ``validate``, as there is no config to load), and the rules that need an unreadable file are skipped.
    """

    global_config = StrictNested(GlobalConfigSchema, data_key=GLOBAL_FILE, required=True)
    lambda_config = StrictNested(LambdaConfigSchema, data_key=LAMBDA_FILE, required=True)
    logs = LogsConfigField(data_key=LOGS_FILE, load_default=LogsConfig)

    def __init__(self, *, unreadable: Collection[str] = (), **kwargs: Any) -> None:
        skipped = [name for name, field in self._declared_fields.items() if field.data_key in unreadable]
        super().__init__(partial=tuple(skipped), **kwargs)
        self.unreadable = frozenset(unreadable)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_athena_sources(self, data: dict[str, Any], original_data: Any, **kwargs: Any) -> None:
        """Check duplicate and overlapping sources, and that the results bucket is no data bucket. Reads
        the raw input, so it runs (and never crashes) whatever the field errors."""
        if not isinstance(original_data, Mapping):
            return
        raw_lambda = original_data.get(LAMBDA_FILE)
        block = _athena_block(raw_lambda)
        if block is None:
            return
        errors: dict[PathPart, Any] = {}
        mapped = _mapped_sources(block)
        _check_overlaps(mapped, errors)
        results_bucket = block.get("results_bucket")
        if isinstance(results_bucket, str) and not bucket_name_problem(results_bucket):
            data_sources = [*mapped, *_input_sources(_rule_inputs(raw_lambda))]
            prefix = valid_prefix(original_data.get(GLOBAL_FILE))
            _check_results_bucket_holds_no_data(results_bucket, prefix, data_sources, errors)
        if errors:
            raise ValidationError({LAMBDA_FILE: {ATHENA_BLOCK: errors}})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_rule_processor(self, data: dict[str, Any], original_data: Any, **kwargs: Any) -> None:
        """Check the rule processor's inputs (repeats, overlapping sources), and that an enabled rule
        processor has log types to classify records into."""
        if not isinstance(original_data, Mapping):
            return
        raw_lambda = original_data.get(LAMBDA_FILE)
        block = raw_lambda.get(RULE_PROCESSOR_BLOCK) if isinstance(raw_lambda, Mapping) else None
        if not isinstance(block, Mapping):
            return
        errors: dict[PathPart, Any] = {}
        inputs = block.get(INPUTS_KEY)
        if isinstance(inputs, Mapping):
            _check_input_sources(inputs.get("s3"), errors)
            _check_input_streams(inputs.get("kinesis"), errors)
        logs = original_data.get(LOGS_FILE, {})
        logs_known = LOGS_FILE not in self.unreadable
        if block.get("enabled") is not False and logs_known and isinstance(logs, Mapping) and not logs:
            add_error(
                errors,
                (SCHEMA,),
                f"no log type is declared in {LOGS_FILE}: every record would be unclassified "
                f"(declare log types in {LOGS_FILE}, next to {LAMBDA_FILE})",
            )
        if errors:
            raise ValidationError({LAMBDA_FILE: {RULE_PROCESSOR_BLOCK: errors}})

    @validates_schema(skip_on_field_errors=False)
    def check_table_logs(self, data: dict[str, Any], **kwargs: Any) -> None:
        """A created table's log type is one of ``logs.json``, and it makes a table (``tables_config``).
        Runs when both files loaded."""
        lambda_config, logs = data.get("lambda_config"), data.get("logs")
        if not isinstance(lambda_config, LambdaConfig) or not isinstance(logs, LogsConfig):
            return  # a file did not load: its errors are told
        block = lambda_config.athena_partition_refresh
        if block is None or LOGS_FILE in self.unreadable:
            return
        log_types = {log_type.name: log_type for log_type in logs.log_types}
        errors: dict[PathPart, Any] = {}
        for declaration in block.declared_tables:
            if declaration.log is None:
                continue
            path = (TABLES_KEY, declaration.name, "log")
            log_type = log_types.get(declaration.log)
            if log_type is None:
                known = ", ".join(f'"{name}"' for name in log_types) or "none"
                add_error(
                    errors,
                    path,
                    f'log type "{declaration.log}" is not in {LOGS_FILE} (it declares {known}): name one of '
                    f'them, add it to {LOGS_FILE}, or declare the table "existing": true',
                )
                continue
            for problem in column_problems(declaration, log_type):
                add_error(errors, path, problem)
        if errors:
            raise ValidationError({LAMBDA_FILE: {ATHENA_BLOCK: errors}})

    @validates_schema(skip_on_field_errors=False)
    def check_bucket_settings(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Every bucket of ``global.json``'s ``buckets`` is read by a source of ``lambda.json``, and an
        EventBridge bucket is read by the refresh alone: S3 invokes the rule processor itself, which
        EventBridge would not. Runs when both files loaded."""
        global_config, lambda_config = data.get("global_config"), data.get("lambda_config")
        if not isinstance(global_config, GlobalConfig) or not isinstance(lambda_config, LambdaConfig):
            return  # a file did not load: its errors are told
        refresh, rule = lambda_config.athena_partition_refresh, lambda_config.rule_processor
        refreshed = set(refresh.buckets) if refresh is not None else set()
        inputs = set(rule.buckets) if rule is not None else set()
        errors: dict[PathPart, Any] = {}
        for settings in global_config.buckets:
            path = (BUCKETS_KEY, settings.name)
            if settings.name not in refreshed | inputs:
                add_error(
                    errors,
                    path,
                    f"no source of {LAMBDA_FILE} reads bucket {settings.name}: remove it from "
                    f"{BUCKETS_KEY}, or name it as a source in {LAMBDA_FILE}",
                )
            elif settings.notifications is NotificationMode.EVENTBRIDGE and settings.name in inputs:
                add_error(
                    errors,
                    (*path, NOTIFICATIONS_KEY),
                    f"the rule processor reads {settings.name} ({RULE_PROCESSOR_BLOCK}.{INPUTS_KEY}.s3), "
                    "and S3 invokes it through the bucket's notifications, not EventBridge: set "
                    f'"{NOTIFICATIONS_KEY}": "s3" for this bucket, or have only the refresh read it',
                )
        if errors:
            raise ValidationError({GLOBAL_FILE: errors})

    @post_load
    def make_config(self, data: dict[str, Any], **kwargs: Any) -> Config:
        return Config(
            global_config=data["global_config"], lambda_config=data["lambda_config"], logs=data["logs"]
        )


def _athena_block(raw_lambda: Any) -> Mapping[str, Any] | None:
    if not isinstance(raw_lambda, Mapping):
        return None
    block = raw_lambda.get(ATHENA_BLOCK)
    return block if isinstance(block, Mapping) else None


def _check_results_bucket_holds_no_data(
    bucket: str, prefix: str | None, sources: list[_MappedSource], errors: dict[PathPart, Any]
) -> None:
    """The results bucket must be a bucket of its own: the deploy declares it with ``force_destroy`` and
    expires every object in it, which would empty a data bucket that shares it. The alerts bucket is
    named from the prefix, when it is valid."""
    uses = ["the alerts bucket"] if prefix is not None and bucket == alerts_bucket_name(prefix) else []
    holders = [_describe_source(entry) for entry in sources if entry.source.bucket == bucket]
    if holders:
        uses.append("the bucket of " + _and([holders[0], *(f"of {holder}" for holder in holders[1:])]))
    if not uses:
        return
    add_error(
        errors,
        ("results_bucket",),
        f'results_bucket "{bucket}" is also {_and(uses)}: Athena results need a bucket of their '
        f"own (the deploy empties it on destroy and expires its objects after "
        f"{ATHENA_RESULTS_EXPIRATION_DAYS} days)",
    )


def _describe_source(entry: _MappedSource) -> str:
    if entry.path[0] == REFRESH_TYPE_KEY:
        return f'refresh source "{entry.source}"' + (f" (table {entry.table})" if entry.table else "")
    return f'rule processor input "{entry.source}" ({format_path((RULE_PROCESSOR_BLOCK, *entry.path))})'


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _rule_inputs(raw_lambda: Any) -> Any:
    """The raw ``inputs.s3`` of the rule processor's block, if any."""
    block = raw_lambda.get(RULE_PROCESSOR_BLOCK) if isinstance(raw_lambda, Mapping) else None
    inputs = block.get(INPUTS_KEY) if isinstance(block, Mapping) else None
    return inputs.get("s3") if isinstance(inputs, Mapping) else None


def _mapped_sources(block: Mapping[str, Any]) -> list[_MappedSource]:
    """Every parseable source of every refresh type, in config order."""
    refresh_type = block.get(REFRESH_TYPE_KEY)
    if not isinstance(refresh_type, Mapping):
        return []
    mapped = []
    for kind in RefreshType:
        sources = refresh_type.get(kind.value)
        if not isinstance(sources, Mapping):
            continue
        for key, table in sources.items():
            try:
                source = parse_source(key)
            except ValueError:
                continue  # reported by the field
            path = (REFRESH_TYPE_KEY, kind.value, key)
            mapped.append(_MappedSource(path, source, table if isinstance(table, str) else None))
    return mapped


def _check_overlaps(mapped: list[_MappedSource], errors: dict[PathPart, Any]) -> None:
    """A source mapped twice, or overlapping an earlier source of its bucket, is an error on the later one."""
    for index, entry in enumerate(mapped):
        earlier = mapped[:index]
        same = next((other for other in earlier if other.source == entry.source), None)
        if same is not None:
            add_error(
                errors,
                entry.path,
                f'source "{entry.source}" is already mapped by {format_path(same.path)}; '
                "map each source once",
            )
            continue
        overlapping = next((other for other in earlier if other.source.overlaps(entry.source)), None)
        if overlapping is not None:
            add_error(
                errors,
                entry.path,
                f'source "{entry.source}" overlaps source "{overlapping.source}" mapped by '
                f"{format_path(overlapping.path)}: the sources of one bucket must not overlap "
                "(S3 refuses overlapping notification filters)",
            )


def _input_sources(raw: Any) -> Iterator[_MappedSource]:
    """Each parseable input source of the rule processor."""
    if not isinstance(raw, list):
        return
    for index, text in enumerate(raw):
        try:
            source = parse_source(text)
        except ValueError:
            continue  # reported by the field
        yield _MappedSource((INPUTS_KEY, "s3", index), source)


def _check_input_sources(raw: Any, errors: dict[PathPart, Any]) -> None:
    """A source listed twice or overlapping an earlier one of its bucket."""
    listed: list[_MappedSource] = []
    for entry in _input_sources(raw):
        path, source = entry.path, entry.source
        earlier = next((other for other in listed if other.source.overlaps(source)), None)
        if earlier is None:
            listed.append(entry)
        elif earlier.source == source:
            add_error(
                errors,
                path,
                f'source "{source}" is already listed at {format_path(earlier.path)}; list it once',
            )
        else:
            add_error(
                errors,
                path,
                f'source "{source}" overlaps source "{earlier.source}" listed at '
                f"{format_path(earlier.path)}: the sources of one bucket must not overlap "
                "(S3 refuses overlapping notification filters)",
            )


def _check_input_streams(raw: Any, errors: dict[PathPart, Any]) -> None:
    """A stream listed twice."""
    if not isinstance(raw, list):
        return
    listed: dict[str, ErrorPath] = {}
    for index, name in enumerate(raw):
        path: ErrorPath = (INPUTS_KEY, "kinesis", index)
        if not isinstance(name, str) or stream_name_problem(name):
            continue  # reported by the field
        if name in listed:
            add_error(
                errors,
                path,
                f'stream "{name}" is already listed at {format_path(listed[name])}; list it once',
            )
        else:
            listed[name] = path
