"""The processor registry: one table feeds the --processor choices and says what can be deployed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from config_schemas.models import LambdaConfig
from streamalert.config import load_config
from streamalert_cli import processors
from streamalert_cli.processors import (
    PROCESSOR_CHOICES,
    PROCESSORS,
    ProcessorSelectionError,
    by_name,
    deployable,
    select,
)

BASIC = Path(__file__).resolve().parents[1] / "fixtures" / "terraform" / "configs" / "basic"
ALL_PROCESSORS = BASIC.parent / "all_processors"


def test_the_choices_are_every_processor_and_all() -> None:
    assert PROCESSOR_CHOICES == ("athena", "rule", "alert", "all")
    assert [p.function_name("acme") for p in PROCESSORS] == [
        "acme_streamalert_athena_partition_refresh",
        "acme_streamalert_rule_processor",
        "acme_streamalert_alert_processor",
    ]


def test_every_built_processor_has_an_app_and_a_template() -> None:
    repo = Path(__file__).resolve().parents[2]
    for processor in PROCESSORS:
        if processor.built:
            assert (repo / "apps" / processor.app / "main.py").is_file()
            assert (repo / "tf_templates" / f"{processor.module}.tf.j2").is_file()


def test_all_selects_the_configured_built_processors() -> None:
    config = load_config(BASIC)

    assert [p.cli_name for p in select("all", config)] == ["athena"]
    assert select("athena", config) == (by_name("athena"),)
    assert [p.cli_name for p in select("all", load_config(ALL_PROCESSORS))] == ["athena", "rule", "alert"]


def test_every_processor_is_built() -> None:
    assert all(processor.built for processor in PROCESSORS)


def test_a_processor_not_built_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    unbuilt = replace(by_name("rule"), built=False)
    monkeypatch.setattr(processors, "PROCESSORS", (PROCESSORS[0], unbuilt, PROCESSORS[2]))

    with pytest.raises(ProcessorSelectionError, match="Rule Processor \\(rule\\) is not built yet"):
        select("rule", load_config(ALL_PROCESSORS))
    assert [p.cli_name for p in deployable(load_config(ALL_PROCESSORS))] == ["athena", "alert"]


def test_a_processor_missing_from_lambda_json_says_so() -> None:
    config = replace(load_config(BASIC), lambda_config=LambdaConfig())

    with pytest.raises(ProcessorSelectionError, match="no athena_partition_refresh_config block"):
        select("athena", config)
    with pytest.raises(ProcessorSelectionError, match="configures no processor"):
        select("all", config)
    assert deployable(config) == ()
