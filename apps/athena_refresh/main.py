"""Lambda entry point of the Athena Partition Refresh function."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings, disabled_response
from config_schemas.models import Config
from streamalert import logger
from streamalert.config import config_dir_from_env, load_config
from streamalert.deadline import Deadline
from streamalert.sqs import messages_from_event

PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def read_config() -> Config:
    """The deployment's config: ``STREAMALERT_CONFIG_DIR``'s, else the one packaged beside the code."""
    return load_config(config_dir_from_env(PACKAGED_CONFIG_DIR))


def new_handler() -> Handler:
    """A handler with warm state of its own: its first call reads the config and builds the refresher and
    its clients, the next ones reuse them. Lambda calls ``handler``, made once per container; a run outside
    Lambda (the local proof) takes a new one, which reads that run's config and clients."""
    config = functools.cache(read_config)

    @functools.cache
    def refresher() -> PartitionRefresher:
        return PartitionRefresher.from_config(config(), RefreshSettings.from_env(os.environ))

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        block = config().athena_refresh
        logger.configure(block.log_level if block else "info")
        messages = messages_from_event(event)
        if block is None or not block.enabled:
            return disabled_response(messages)
        deadline = Deadline.from_context(context)
        if messages is not None:
            return refresher().run_event_source(messages, deadline)
        return refresher().run_scheduled(deadline)

    return handler


handler = new_handler()
