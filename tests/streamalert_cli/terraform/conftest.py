"""Fixture configs of the Terraform tests, and terraform itself (required on this project's machines)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config_schemas.models import Config
from streamalert.config import load_config

CONFIGS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "terraform" / "configs"
GOLDEN_DIR = CONFIGS_DIR.parent / "golden"
CONFIG_NAMES = ("basic", "athena_modes", "custom_settings", "all_processors", "queue_trigger")
NO_TERRAFORM = (
    "terraform is not on PATH (a documented prerequisite): install Terraform 1.10+ to run this test"
)


def fixture_config(name: str) -> Config:
    return load_config(CONFIGS_DIR / name)


@pytest.fixture
def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip(NO_TERRAFORM)
    return binary
