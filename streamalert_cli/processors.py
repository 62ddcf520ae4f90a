"""The one registry of deployable functions: everything about a processor hangs off its entry here.

An entry gives its CLI name (the ``--processor`` choice of deploy, rollback, destroy and ``manage.py``; of
redrive when it names queues), its ``apps/<app>/`` package (whose ``main.handler`` is the function's
handler), its config block, its function name, the queues ``scripts/redrive`` moves messages between, what
its zip carries beyond the runtime and its app, and the function that builds the context of its
Terraform module ``tf_templates/<app>.tf.j2``.

Adding a processor touches exactly these files:

- ``streamalert_cli/processors.py``: its entry in ``PROCESSORS``;
- ``apps/<app>/``: ``main.py`` with ``handler`` (and ``new_handler``), the work in a class beside it;
- ``tf_templates/<app>.tf.j2``: its module, built of the blocks of ``tf_templates/_macros.tf.j2``;
- ``streamalert_cli/terraform/<app>_context.py``: ``<app>_context(processor, config, target)``, the typed
  context of that template;
- like every name and config block: its names in ``streamalert/constants.py``, its block in
  ``config_schemas/``;
- its tests: ``tests/apps/<app>/``, its context's in ``tests/streamalert_cli/terraform/``, and what AWS
  does with its role in ``ON_BEHALF`` of ``tests/streamalert_cli/terraform/test_security.py``;
- only when its module uses an AWS service no other module does: ``LOCAL_ENDPOINT_SERVICES`` in
  ``streamalert_cli/terraform/context.py`` (the emulator's endpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config_schemas.models import Config
from streamalert.constants import (
    alert_processor_function_name,
    alerts_dead_letter_queue_name,
    alerts_queue_name,
    athena_dead_letter_queue_name,
    athena_function_name,
    athena_queue_name,
    rule_processor_function_name,
)
from streamalert.exceptions import StreamAlertError
from streamalert_cli.packaging import MSGSPEC, RuntimeWheel
from streamalert_cli.terraform.alert_processor_context import alert_processor_context
from streamalert_cli.terraform.athena_refresh_context import athena_refresh_context
from streamalert_cli.terraform.context import AWS_TARGET, DeployTarget, ModuleContext
from streamalert_cli.terraform.rule_processor_context import rule_processor_context

ALL = "all"


@dataclass(frozen=True)
class RedriveQueues:
    """The queue a function reads and its dead-letter queue: their names for a deployment prefix."""

    queue: Callable[[str], str]
    dead_letters: Callable[[str], str]


@dataclass(frozen=True)
class Processor:
    """One deployable function. ``app`` names its ``apps/`` package, its template, its Terraform module
    and its build sub-directory; ``extra_folders`` and ``wheels`` are what its zip carries beyond the
    runtime, ``config_schemas/``, its app and its config."""

    cli_name: str
    app: str
    title: str
    config_block: str
    function_name: Callable[[str], str]
    is_configured: Callable[[Config], bool]
    build_context: Callable[[Processor, Config, DeployTarget], ModuleContext]
    queues: RedriveQueues | None = None
    extra_folders: tuple[str, ...] = ()
    wheels: tuple[RuntimeWheel, ...] = ()

    @property
    def handler(self) -> str:
        """The function's handler, as Lambda names it."""
        return f"apps.{self.app}.main.handler"

    @property
    def module(self) -> str:
        """The Terraform module (and build sub-directory) of this processor."""
        return self.app

    @property
    def template(self) -> str:
        """The template of its module, in ``tf_templates/``."""
        return f"{self.app}.tf.j2"

    def module_context(self, config: Config, target: DeployTarget = AWS_TARGET) -> ModuleContext:
        """The context its template is rendered with, for the target."""
        return self.build_context(self, config, target)


PROCESSORS: tuple[Processor, ...] = (
    Processor(
        cli_name="athena",
        app="athena_refresh",
        title="Athena Partition Refresh",
        config_block="athena_partition_refresh_config",
        function_name=athena_function_name,
        is_configured=lambda config: config.athena_refresh is not None,
        build_context=athena_refresh_context,
        queues=RedriveQueues(athena_queue_name, athena_dead_letter_queue_name),
        wheels=(MSGSPEC,),
    ),
    Processor(
        cli_name="rule",
        app="rule_processor",
        title="Rule Processor",
        config_block="rule_processor_config",
        function_name=rule_processor_function_name,
        is_configured=lambda config: config.rule_processor is not None,
        build_context=rule_processor_context,
        extra_folders=("rules",),
        wheels=(MSGSPEC,),
    ),
    Processor(
        cli_name="alert",
        app="alert_processor",
        title="Alert Processor",
        config_block="alert_processor_config",
        function_name=alert_processor_function_name,
        is_configured=lambda config: config.alert_processor is not None,
        build_context=alert_processor_context,
        queues=RedriveQueues(alerts_queue_name, alerts_dead_letter_queue_name),
    ),
)

PROCESSOR_CHOICES: tuple[str, ...] = (*(p.cli_name for p in PROCESSORS), ALL)
# scripts/redrive: the processors fed by a queue with a dead-letter queue
REDRIVE_CHOICES: tuple[str, ...] = tuple(p.cli_name for p in PROCESSORS if p.queues is not None)


class ProcessorSelectionError(StreamAlertError, ValueError):
    """The chosen processor cannot be deployed: unknown, or not configured in lambda.json (a ValueError
    too, as it was)."""


def by_name(cli_name: str) -> Processor:
    for processor in PROCESSORS:
        if processor.cli_name == cli_name:
            return processor
    raise ProcessorSelectionError(
        f"unknown processor {cli_name!r}: choose from {', '.join(PROCESSOR_CHOICES)}"
    )


def deployable(config: Config) -> tuple[Processor, ...]:
    """Every processor that ``lambda.json`` configures, in registry order."""
    return tuple(p for p in PROCESSORS if p.is_configured(config))


def select(cli_name: str, config: Config) -> tuple[Processor, ...]:
    """The processors ``--processor cli_name`` deploys; raises ProcessorSelectionError saying why none."""
    if cli_name == ALL:
        chosen = deployable(config)
        if not chosen:
            raise ProcessorSelectionError("lambda.json configures no processor that can be deployed")
        return chosen
    processor = by_name(cli_name)
    if not processor.is_configured(config):
        raise ProcessorSelectionError(
            f"lambda.json has no {processor.config_block} block: nothing to deploy for {cli_name}"
        )
    return (processor,)
