"""Lambda entry point of the Rule Processor function."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from apps.rule_processor.processor import RuleProcessor, disabled_response
from config_schemas.models import Config
from streamalert import logger
from streamalert.config import config_dir_from_env, load_config
from streamalert.rules import load_rules

PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"


@functools.cache
def warm_config() -> Config:
    """The deployment's config, read once per warm container."""
    return load_config(config_dir_from_env(PACKAGED_CONFIG_DIR))


@functools.cache
def warm_processor() -> RuleProcessor:
    """The rules (imported from the packaged ``rules`` package) and the clients, once per warm container."""
    return RuleProcessor.from_config(warm_config(), load_rules())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    block = warm_config().rule_processor
    logger.configure(block.log_level if block else "info")
    if block is None or not block.enabled:
        return disabled_response(event)
    return warm_processor().handle(event)
