"""Lambda entry point of the Athena Partition Refresh function."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings, disabled_response
from config_schemas.models import Config
from streamalert import logger
from streamalert.config import config_dir_from_env, load_config
from streamalert.deadline import Deadline
from streamalert.sqs import messages_from_event

PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"


@functools.cache
def warm_config() -> Config:
    """The deployment's config, read once per warm container."""
    return load_config(config_dir_from_env(PACKAGED_CONFIG_DIR))


@functools.cache
def warm_refresher() -> PartitionRefresher:
    """The refresher and its clients, built once per warm container."""
    return PartitionRefresher.from_config(warm_config(), RefreshSettings.from_env(os.environ))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    block = warm_config().athena_refresh
    logger.configure(block.log_level if block else "info")
    messages = messages_from_event(event)
    if block is None or not block.enabled:
        return disabled_response(messages)
    deadline = Deadline.from_context(context)
    if messages is not None:
        return warm_refresher().run_event_source(messages, deadline)
    return warm_refresher().run_scheduled(deadline)
