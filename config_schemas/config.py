"""The schema of the whole ``conf/`` directory: both files at once, so that rules needing
``account.prefix`` (from ``global.json``) can check ``lambda.json`` after ``<prefix>`` substitution."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from marshmallow import ValidationError, post_load, validates_schema

from config_schemas.errors import ErrorPath, PathPart, add_error, format_path
from config_schemas.fields import StrictNested, StrictSchema, bucket_name_problem, parse_source
from config_schemas.global_config import PREFIX_PATTERN, GlobalConfigSchema
from config_schemas.lambda_config import ATHENA_BLOCK, REFRESH_TYPE_KEY, LambdaConfigSchema
from config_schemas.models import AthenaRefreshConfig, Config, RefreshType, Source
from streamalert.constants import DEFAULT_RESULTS_BUCKET, PREFIX_PLACEHOLDER

GLOBAL_FILE = "global.json"
LAMBDA_FILE = "lambda.json"
CONFIG_FILES = (GLOBAL_FILE, LAMBDA_FILE)


@dataclass(frozen=True)
class _MappedSource:
    """A source as written in ``refresh_type`` (its path in the block) and as it resolves."""

    path: ErrorPath
    source: Source


class ConfigSchema(StrictSchema):
    """Load ``{"global.json": ..., "lambda.json": ...}`` into ``models.Config``, reporting every error."""

    global_config = StrictNested(GlobalConfigSchema, data_key=GLOBAL_FILE, required=True)
    lambda_config = StrictNested(LambdaConfigSchema, data_key=LAMBDA_FILE, required=True)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_athena_sources(self, data: dict[str, Any], original_data: Any, **kwargs: Any) -> None:
        """Check, after ``<prefix>`` substitution, bucket names that held it, then duplicate and overlapping
        sources. Reads the raw input, so it runs (and never crashes) whatever the field errors."""
        if not isinstance(original_data, Mapping):
            return
        block = _athena_block(original_data.get(LAMBDA_FILE))
        if block is None:
            return
        prefix = _valid_prefix(original_data.get(GLOBAL_FILE))
        errors: dict[PathPart, Any] = {}
        _check_results_bucket(block, prefix, errors)
        _check_overlaps(_mapped_sources(block, prefix, errors), errors)
        if errors:
            raise ValidationError({LAMBDA_FILE: {ATHENA_BLOCK: errors}})

    @post_load
    def make_config(self, data: dict[str, Any], **kwargs: Any) -> Config:
        global_config = data["global_config"]
        lambda_config = data["lambda_config"]
        athena = lambda_config.athena_partition_refresh
        if athena is not None:
            athena = substitute_prefix(athena, global_config.account.prefix)
            lambda_config = replace(lambda_config, athena_partition_refresh=athena)
        return Config(global_config=global_config, lambda_config=lambda_config)


def substitute_prefix(athena: AthenaRefreshConfig, prefix: str) -> AthenaRefreshConfig:
    """Replace ``<prefix>`` in every source and in ``results_bucket``."""
    routes = tuple(replace(route, source=_substitute_source(route.source, prefix)) for route in athena.routes)
    results_bucket = athena.results_bucket.replace(PREFIX_PLACEHOLDER, prefix)
    return replace(athena, routes=routes, results_bucket=results_bucket)


def _substitute_source(source: Source, prefix: str) -> Source:
    return Source(
        source.bucket.replace(PREFIX_PLACEHOLDER, prefix), source.prefix.replace(PREFIX_PLACEHOLDER, prefix)
    )


def _athena_block(raw_lambda: Any) -> Mapping[str, Any] | None:
    if not isinstance(raw_lambda, Mapping):
        return None
    block = raw_lambda.get(ATHENA_BLOCK)
    return block if isinstance(block, Mapping) else None


def _valid_prefix(raw_global: Any) -> str | None:
    """``account.prefix`` when it is valid; None leaves ``<prefix>`` in place for the checks."""
    account = raw_global.get("account") if isinstance(raw_global, Mapping) else None
    prefix = account.get("prefix") if isinstance(account, Mapping) else None
    if isinstance(prefix, str) and re.fullmatch(PREFIX_PATTERN, prefix):
        return prefix
    return None


def _substitution_note(prefix: str) -> str:
    return f' (with {PREFIX_PLACEHOLDER} replaced by "{prefix}")'


def _check_results_bucket(block: Mapping[str, Any], prefix: str | None, errors: dict[PathPart, Any]) -> None:
    bucket = block.get("results_bucket", DEFAULT_RESULTS_BUCKET)
    if prefix is None or not isinstance(bucket, str) or PREFIX_PLACEHOLDER not in bucket:
        return  # a bucket name without <prefix> is checked by its field
    problem = bucket_name_problem(bucket.replace(PREFIX_PLACEHOLDER, prefix), _substitution_note(prefix))
    if problem:
        add_error(errors, ("results_bucket",), problem)


def _mapped_sources(
    block: Mapping[str, Any], prefix: str | None, errors: dict[PathPart, Any]
) -> list[_MappedSource]:
    """Every parseable source of every refresh type, in config order, ``<prefix>`` substituted if known."""
    refresh_type = block.get(REFRESH_TYPE_KEY)
    if not isinstance(refresh_type, Mapping):
        return []
    mapped = []
    for kind in RefreshType:
        sources = refresh_type.get(kind.value)
        if not isinstance(sources, Mapping):
            continue
        for key in sources:
            path = (REFRESH_TYPE_KEY, kind.value, key)
            try:
                source = parse_source(key)
            except ValueError:
                continue  # reported by the field
            if prefix is not None and PREFIX_PLACEHOLDER in key:
                source = _substitute_source(source, prefix)
                problem = bucket_name_problem(source.bucket, _substitution_note(prefix))
                if problem:
                    add_error(errors, path, problem)
                    continue
            mapped.append(_MappedSource(path, source))
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
