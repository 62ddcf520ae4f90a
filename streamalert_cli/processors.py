"""The one registry of deployable functions: CLI names (``athena``, ``rule``, ``alert``) to what they deploy.

It feeds the ``--processor`` choices of every deploy command. Adding a processor is one entry here, its
``apps/<app>/`` package, one ``tf_templates/<app>.tf.j2`` and its context function
(``streamalert_cli.terraform.<app>_context``, listed in ``render.MODULE_CONTEXTS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config_schemas.models import Config
from streamalert.constants import (
    alert_processor_function_name,
    athena_function_name,
    rule_processor_function_name,
)

ALL = "all"


@dataclass(frozen=True)
class Processor:
    """One deployable function: ``app`` names its ``apps/`` package, template and Terraform module."""

    cli_name: str
    app: str
    title: str
    config_block: str
    function_name: Callable[[str], str]
    is_configured: Callable[[Config], bool]
    built: bool

    @property
    def module(self) -> str:
        """The Terraform module (and build sub-directory) of this processor."""
        return self.app


PROCESSORS: tuple[Processor, ...] = (
    Processor(
        cli_name="athena",
        app="athena_refresh",
        title="Athena Partition Refresh",
        config_block="athena_partition_refresh_config",
        function_name=athena_function_name,
        is_configured=lambda config: config.athena_refresh is not None,
        built=True,
    ),
    Processor(
        cli_name="rule",
        app="rule_processor",
        title="Rule Processor",
        config_block="rule_processor_config",
        function_name=rule_processor_function_name,
        is_configured=lambda config: config.rule_processor is not None,
        built=True,
    ),
    Processor(
        cli_name="alert",
        app="alert_processor",
        title="Alert Processor",
        config_block="alert_processor_config",
        function_name=alert_processor_function_name,
        is_configured=lambda config: config.alert_processor is not None,
        built=True,
    ),
)

PROCESSOR_CHOICES: tuple[str, ...] = (*(p.cli_name for p in PROCESSORS), ALL)


class ProcessorSelectionError(ValueError):
    """The chosen processor cannot be deployed: not built yet, or not configured in lambda.json."""


def by_name(cli_name: str) -> Processor:
    for processor in PROCESSORS:
        if processor.cli_name == cli_name:
            return processor
    raise ProcessorSelectionError(
        f"unknown processor {cli_name!r}: choose from {', '.join(PROCESSOR_CHOICES)}"
    )


def deployable(config: Config) -> tuple[Processor, ...]:
    """Every built processor that ``lambda.json`` configures, in registry order."""
    return tuple(p for p in PROCESSORS if p.built and p.is_configured(config))


def select(cli_name: str, config: Config) -> tuple[Processor, ...]:
    """The processors ``--processor cli_name`` deploys; raises ProcessorSelectionError saying why none."""
    if cli_name == ALL:
        chosen = deployable(config)
        if not chosen:
            raise ProcessorSelectionError("lambda.json configures no processor that can be deployed")
        return chosen
    processor = by_name(cli_name)
    if not processor.built:
        raise ProcessorSelectionError(
            f"the {processor.title} ({cli_name}) is not built yet: only "
            f"{', '.join(p.cli_name for p in PROCESSORS if p.built)} can be deployed"
        )
    if not processor.is_configured(config):
        raise ProcessorSelectionError(
            f"lambda.json has no {processor.config_block} block: nothing to deploy for {cli_name}"
        )
    return (processor,)
