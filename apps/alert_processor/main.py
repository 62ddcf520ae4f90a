"""Lambda entry point of the Alert Processor function (an SQS event source on the alerts queue)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from apps.alert_processor.processor import AlertProcessor, disabled_response
from config_schemas.models import Config
from streamalert import logger
from streamalert.config import config_dir_from_env, load_config
from streamalert.sqs import messages_from_event

PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"
LOGGER = logger.get_logger(__name__)


@functools.cache
def warm_config() -> Config:
    """The deployment's config, read once per warm container."""
    return load_config(config_dir_from_env(PACKAGED_CONFIG_DIR))


@functools.cache
def warm_processor() -> AlertProcessor:
    """The outputs and their clients, built once per warm container."""
    return AlertProcessor.from_config(warm_config())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    block = warm_config().alert_processor
    logger.configure(block.log_level if block else "info")
    messages = messages_from_event(event)
    if block is None or not block.enabled:
        return disabled_response(messages)
    if messages is None:
        LOGGER.error("Not an SQS event: nothing done (the alert processor reads the alerts queue)")
        return {"batchItemFailures": []}
    return warm_processor().handle(messages)
