"""scripts/rollback: the previous version is the newest published one older than the alias's."""

from __future__ import annotations

import io
import zipfile
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from streamalert_cli.common import StepFailed
from streamalert_cli.processors import by_name
from streamalert_cli.rollback import previous_version
from tests.helpers import REGION
from tests.streamalert_cli.terraform.conftest import fixture_config

FUNCTION = "acme_streamalert_athena_partition_refresh"


def publish_versions(count: int) -> Any:
    """A function with ``count`` published versions, on moto."""
    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("main.py", "def handler(event, context):\n    return {}\n")
    client = boto3.client("lambda", region_name=REGION)
    client.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="main.handler",
        Code={"ZipFile": code.getvalue()},
    )
    for index in range(count):
        client.update_function_configuration(FunctionName=FUNCTION, Description=f"v{index}")
        client.publish_version(FunctionName=FUNCTION)
    return client


def deployment() -> Any:
    return SimpleNamespace(config=fixture_config("basic"))


@pytest.mark.usefixtures("moto")
def test_the_previous_version_is_the_newest_older_one() -> None:
    client = publish_versions(3)

    assert previous_version(client, by_name("athena"), deployment(), "3") == "2"
    assert previous_version(client, by_name("athena"), deployment(), "2") == "1"


@pytest.mark.usefixtures("moto")
def test_the_oldest_version_cannot_be_rolled_back() -> None:
    client = publish_versions(1)

    with pytest.raises(StepFailed, match="version 1 is the oldest published version"):
        previous_version(client, by_name("athena"), deployment(), "1")
