"""Fixtures of the tooling's tests that run zips: the runtime interpreter and a built zip."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamalert_cli.packaging import Package, build_package
from streamalert_cli.processors import by_name
from streamalert_cli.zip_runner import LambdaRuntime, RuntimeMissingError
from tests.helpers import ACCOUNT_ID, REGION, write_json


@pytest.fixture(scope="session")
def runtime() -> LambdaRuntime:
    """The runtime interpreter with its boto3 (installed once into build/runtime-libraries)."""
    try:
        return LambdaRuntime.find()
    except RuntimeMissingError as err:  # scripts/test requires python3.12: only a bare machine skips
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def alert_package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    """The alert processor's zip, enabled by its config: a handler that needs no AWS for an empty event."""
    config_dir = tmp_path_factory.mktemp("conf")
    write_json(
        config_dir / "global.json",
        {"account": {"aws_account_id": ACCOUNT_ID, "prefix": "acme", "region": REGION}},
    )
    write_json(config_dir / "lambda.json", {"alert_processor_config": {"outputs": ["s3:alerts"]}})
    return build_package(by_name("alert"), config_dir, tmp_path_factory.mktemp("packages"))


@pytest.fixture
def alert_zip(alert_package: Package) -> Path:
    return alert_package.path
