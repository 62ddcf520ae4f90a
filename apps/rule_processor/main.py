"""Lambda entry point of the Rule Processor function."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apps.rule_processor.processor import RuleProcessor, disabled_response
from config_schemas.models import Config
from streamalert import logger
from streamalert.config import config_dir_from_env, load_config
from streamalert.rules import load_rules

PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def read_config() -> Config:
    """The deployment's config: ``STREAMALERT_CONFIG_DIR``'s, else the one packaged beside the code."""
    return load_config(config_dir_from_env(PACKAGED_CONFIG_DIR))


def new_handler() -> Handler:
    """A handler with warm state of its own: its first call reads the config, imports the rules (the
    packaged ``rules`` package) and builds the clients, the next ones reuse them. Lambda calls ``handler``,
    made once per container; a run outside Lambda (the local proof) takes a new one."""
    config = functools.cache(read_config)

    @functools.cache
    def processor() -> RuleProcessor:
        return RuleProcessor.from_config(config(), load_rules())

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        block = config().rule_processor
        logger.configure(block.log_level if block else "info")
        if block is None or not block.enabled:
            return disabled_response(event)
        return processor().handle(event)

    return handler


handler = new_handler()
