"""The bench's emulated account: no way to a real account inside, the environment as it was afterwards."""

from __future__ import annotations

import os

import pytest

from benchmarks.deployment import emulated
from benchmarks.workload import DATABASE, REGION, TABLE_BY_TYPE
from config_schemas.models import RefreshType

NAMES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
)


def test_the_emulated_account_reaches_no_real_one_and_restores_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a-real-key")
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.invalid")
    before = {name: os.environ.get(name) for name in NAMES}

    with emulated(TABLE_BY_TYPE[RefreshType.ADD_GLUE_PARTITION]) as deployment:
        inside = {name: os.environ.get(name) for name in NAMES}
        deployment.glue.get_database(Name=DATABASE)  # the emulator's database

    assert inside["AWS_ACCESS_KEY_ID"] != "a-real-key"
    assert (inside["AWS_PROFILE"], inside["AWS_ENDPOINT_URL"]) == (None, None)
    assert inside["AWS_DEFAULT_REGION"] == REGION
    assert {name: os.environ.get(name) for name in NAMES} == before
