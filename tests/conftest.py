"""Fixtures shared by every tier: an isolated AWS environment and moto."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from tests.helpers import ACCOUNT_ID, REGION, VALID_CONFIG_DIR


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever reaches a real account: fake credentials, a fixed region, no endpoint overrides."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT_ID)


@pytest.fixture
def moto() -> Iterator[None]:
    """AWS state held in memory by moto for the test's duration."""
    with mock_aws():
        yield


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the valid fixture config that a test may change."""
    directory = tmp_path / "conf"
    shutil.copytree(VALID_CONFIG_DIR, directory)
    return directory
