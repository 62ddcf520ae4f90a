"""Lambda entry point of the Alert Processor function (an SQS event source on the alerts queue)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apps.alert_processor.processor import AlertProcessor, disabled_response
from config_schemas.models import Config
from streamalert import logger
from streamalert.config import config_dir_from_env, load_config
from streamalert.sqs import messages_from_event

PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"
LOGGER = logger.get_logger(__name__)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def read_config() -> Config:
    """The deployment's config: ``STREAMALERT_CONFIG_DIR``'s, else the one packaged beside the code."""
    return load_config(config_dir_from_env(PACKAGED_CONFIG_DIR))


def new_handler() -> Handler:
    """A handler with warm state of its own: its first call reads the config and builds the outputs and
    their clients, the next ones reuse them. Lambda calls ``handler``, made once per container; a run
    outside Lambda (the local proof) takes a new one."""
    config = functools.cache(read_config)

    @functools.cache
    def processor() -> AlertProcessor:
        return AlertProcessor.from_config(config())

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        block = config().alert_processor
        logger.configure(block.log_level if block else "info")
        messages = messages_from_event(event)
        if block is None or not block.enabled:
            return disabled_response(messages)
        if messages is None:
            LOGGER.error("Not an SQS event: nothing done (the alert processor reads the alerts queue)")
            return {"batchItemFailures": []}
        return processor().handle(messages)

    return handler


handler = new_handler()
