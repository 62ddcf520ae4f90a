"""The processor registry: one table feeds the --processor choices and says what can be deployed."""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path

import pytest

from config_schemas.models import LambdaConfig
from streamalert.config import load_config
from streamalert_cli.processors import (
    PROCESSOR_CHOICES,
    PROCESSORS,
    REDRIVE_CHOICES,
    Processor,
    ProcessorSelectionError,
    by_name,
    deployable,
    select,
)
from streamalert_cli.terraform.context import DeployTarget, QueueContext

REPO = Path(__file__).resolve().parents[2]
BASIC = REPO / "tests" / "fixtures" / "terraform" / "configs" / "basic"
ALL_PROCESSORS = BASIC.parent / "all_processors"


def test_the_choices_are_every_processor_and_all() -> None:
    assert PROCESSOR_CHOICES == ("athena", "rule", "alert", "all")
    assert REDRIVE_CHOICES == ("athena", "alert")
    assert [p.function_name("acme") for p in PROCESSORS] == [
        "acme_streamalert_athena_partition_refresh",
        "acme_streamalert_rule_processor",
        "acme_streamalert_alert_processor",
    ]


@pytest.mark.parametrize("processor", PROCESSORS, ids=lambda p: p.cli_name)
def test_an_entry_names_its_app_handler_template_and_context_module(processor: Processor) -> None:
    main = importlib.import_module(f"apps.{processor.app}.main")

    assert processor.handler == f"apps.{processor.app}.main.handler"
    assert callable(main.handler)
    assert (REPO / "tf_templates" / processor.template).is_file()
    assert processor.build_context.__module__ == f"streamalert_cli.terraform.{processor.app}_context"
    assert all((REPO / folder).is_dir() for folder in processor.extra_folders)


def test_every_app_has_a_registry_entry() -> None:
    apps = sorted(path.parent.name for path in (REPO / "apps").glob("*/main.py"))

    assert apps == sorted(processor.app for processor in PROCESSORS)


@pytest.mark.parametrize("processor", PROCESSORS, ids=lambda p: p.cli_name)
def test_the_context_of_a_module_is_built_for_its_entry(processor: Processor) -> None:
    context = processor.module_context(load_config(ALL_PROCESSORS), DeployTarget(local=False))

    assert context.module == processor.module
    assert context.function.name == processor.function_name("acme")
    assert context.function.handler == processor.handler
    assert context.tags["streamalert:processor"] == processor.cli_name


@pytest.mark.parametrize("processor", [p for p in PROCESSORS if p.queues], ids=lambda p: p.cli_name)
def test_redrive_knows_the_queues_the_module_creates(processor: Processor) -> None:
    assert processor.queues is not None
    queue = getattr(processor.module_context(load_config(ALL_PROCESSORS)), "queue", None)

    assert isinstance(queue, QueueContext)
    assert (queue.name, queue.dead_letter_name) == (
        processor.queues.queue("acme"),
        processor.queues.dead_letters("acme"),
    )


def test_all_selects_the_configured_processors() -> None:
    config = load_config(BASIC)

    assert [p.cli_name for p in select("all", config)] == ["athena"]
    assert select("athena", config) == (by_name("athena"),)
    assert [p.cli_name for p in select("all", load_config(ALL_PROCESSORS))] == ["athena", "rule", "alert"]


def test_a_processor_missing_from_lambda_json_says_so() -> None:
    config = replace(load_config(BASIC), lambda_config=LambdaConfig())

    with pytest.raises(ProcessorSelectionError, match="no athena_partition_refresh_config block"):
        select("athena", config)
    with pytest.raises(ProcessorSelectionError, match="configures no processor"):
        select("all", config)
    assert deployable(config) == ()
