"""global.json's optional deploy settings: the Terraform state location and the source bucket."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from config_schemas.config import ConfigSchema
from config_schemas.errors import flatten_errors
from config_schemas.models import TerraformSettings

ACCOUNT = {"aws_account_id": "123456789012", "prefix": "acme", "region": "us-east-1"}


def load(global_json: dict[str, Any]) -> Any:
    return ConfigSchema().load({"global.json": global_json, "lambda.json": {}})


def errors(global_json: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load(global_json)
    return [str(line) for line in flatten_errors(caught.value.messages_dict)]


def test_the_settings_are_optional() -> None:
    config = load({"account": ACCOUNT})

    assert config.global_config.terraform == TerraformSettings()
    assert config.global_config.source_bucket is None


def test_the_settings_are_read() -> None:
    config = load(
        {
            "account": ACCOUNT,
            "terraform": {"state_bucket": "acme-state", "state_key": "team/streamalert.tfstate"},
            "source_bucket": "acme-artifacts",
        }
    )

    assert config.global_config.terraform == TerraformSettings("acme-state", "team/streamalert.tfstate")
    assert config.global_config.source_bucket == "acme-artifacts"


def test_every_bad_setting_is_reported() -> None:
    lines = errors(
        {
            "account": ACCOUNT,
            "terraform": {"state_bucket": "Acme_State", "state_key": "/abs", "lock_table": "x"},
            "source_bucket": 7,
        }
    )

    assert lines == [
        "global.json: source_bucket: must be an S3 bucket name, got 7 (an integer)",
        "global.json: terraform.lock_table: unknown key; allowed keys: state_bucket, state_key",
        'global.json: terraform.state_bucket: Not a valid S3 bucket name: "Acme_State": '
        "uppercase letters are not allowed (a bucket name has 3 to 63 lowercase letters, digits, dots "
        "and hyphens, and starts and ends with a letter or digit)",
        "global.json: terraform.state_key: must be an S3 object key (1 to 1024 bytes, no leading slash or "
        'control characters), got "/abs" (a string)',
    ]


def test_terraform_must_be_an_object() -> None:
    assert errors({"account": ACCOUNT, "terraform": "s3"}) == [
        'global.json: terraform: must be a JSON object, got "s3" (a string)'
    ]
