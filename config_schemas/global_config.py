"""The schema of ``conf/global.json``: the AWS account the deployment lives in, and how it deploys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, post_load

from config_schemas.fields import (
    StrictField,
    StrictNested,
    StrictSchema,
    StrictString,
    bucket_name_problem,
    describe,
)
from config_schemas.models import Account, BucketSettings, GlobalConfig, NotificationMode, TerraformSettings
from config_schemas.regions import region_problem

ACCOUNT_ID_PATTERN = r"[0-9]{12}"
PREFIX_PATTERN = r"[a-z][a-z0-9-]{0,19}"
_REGION_EXPECTATION = 'must be an AWS region name such as "us-east-1" or "us-gov-west-1"'


def valid_prefix(raw_global: Any) -> str | None:
    """``account.prefix`` of a raw ``global.json`` when it is valid, else None."""
    account = raw_global.get("account") if isinstance(raw_global, Mapping) else None
    prefix = account.get("prefix") if isinstance(account, Mapping) else None
    if isinstance(prefix, str) and re.fullmatch(PREFIX_PATTERN, prefix):
        return prefix
    return None


def _region_problem(name: str) -> str | None:
    problem = region_problem(name)
    return f"{_REGION_EXPECTATION}, got {describe(name)}: {problem}" if problem else None


class AccountSchema(StrictSchema):
    """``account``: the account id, the prefix every resource name starts with, and the region."""

    aws_account_id = StrictString(
        'must be a string of exactly 12 digits, such as "123456789012"',
        pattern=ACCOUNT_ID_PATTERN,
        required=True,
    )
    prefix = StrictString(
        "must be 1 to 20 lowercase letters, digits and hyphens, starting with a letter",
        pattern=PREFIX_PATTERN,
        required=True,
    )
    region = StrictString(_REGION_EXPECTATION, check=_region_problem, required=True)

    @post_load
    def make_account(self, data: dict[str, Any], **kwargs: Any) -> Account:
        return Account(**data)


def _state_key_problem(key: str) -> str | None:
    if 1 <= len(key.encode()) <= 1024 and not key.startswith("/") and not any(ord(c) < 0x20 for c in key):
        return None
    return (
        "must be an S3 object key (1 to 1024 bytes, no leading slash or control characters), "
        f"got {describe(key)}"
    )


class TerraformSchema(StrictSchema):
    """``terraform``: the S3 backend of deployments to AWS (both keys optional, defaults from the prefix)."""

    state_bucket = StrictString("must be an S3 bucket name", check=bucket_name_problem, load_default=None)
    state_key = StrictString("must be an S3 object key", check=_state_key_problem, load_default=None)

    @post_load
    def make_terraform_settings(self, data: dict[str, Any], **kwargs: Any) -> TerraformSettings:
        return TerraformSettings(**data)


BUCKETS_KEY = "buckets"
NOTIFICATIONS_KEY = "notifications"
_MODES = " or ".join(f'"{mode.value}"' for mode in NotificationMode)


class BucketSettingsSchema(StrictSchema):
    """One bucket's settings: ``notifications``, how it announces new objects (``"s3"`` by default)."""

    notifications = StrictString(
        f"must be {_MODES}",
        pattern="|".join(mode.value for mode in NotificationMode),
        load_default=NotificationMode.S3.value,
    )


class BucketSettingsMap(StrictField[tuple[BucketSettings, ...]]):
    """``buckets``: ``{bucket name: {"notifications": "s3" | "eventbridge"}}``, loaded sorted by name.
    Whether a source reads each bucket is checked with ``lambda.json`` (``config.py``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            f'must be an object mapping bucket names to settings such as {{"{NOTIFICATIONS_KEY}": '
            '"eventbridge"}',
            **kwargs,
        )

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[BucketSettings, ...]:
        if not isinstance(value, Mapping):
            raise self.refuse(value)
        loaded: list[BucketSettings] = []
        errors: dict[str, Any] = {}
        for name, raw in value.items():
            problem = bucket_name_problem(name)
            if problem:
                errors[name] = [problem]
                continue
            if not isinstance(raw, Mapping):
                errors[name] = [f"must be a JSON object, got {describe(raw)}"]
                continue
            try:
                settings = BucketSettingsSchema().load(raw)
            except ValidationError as err:
                errors[name] = err.messages
                continue
            loaded.append(BucketSettings(name, NotificationMode(settings[NOTIFICATIONS_KEY])))
        if errors:
            raise ValidationError(errors)
        return tuple(sorted(loaded, key=lambda entry: entry.name))


class GlobalConfigSchema(StrictSchema):
    """``global.json``: ``account``, and the optional deploy settings ``terraform``, ``source_bucket`` and
    ``buckets``; unknown top-level keys are errors."""

    account = StrictNested(AccountSchema, required=True)
    terraform = StrictNested(TerraformSchema, load_default=TerraformSettings)
    source_bucket = StrictString("must be an S3 bucket name", check=bucket_name_problem, load_default=None)
    buckets = BucketSettingsMap(data_key=BUCKETS_KEY, load_default=())

    @post_load
    def make_global_config(self, data: dict[str, Any], **kwargs: Any) -> GlobalConfig:
        return GlobalConfig(**data)
