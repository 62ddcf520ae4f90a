"""The rules package as the rule processor loads it, against the example configuration."""

from __future__ import annotations

from streamalert.config import load_config
from streamalert.rules import RULES_PACKAGE, load_rules
from tests.helpers import REPO


def test_the_rules_package_loads_every_rule() -> None:
    registry = load_rules(RULES_PACKAGE)

    assert {rule.name for rule in registry} >= {
        "root_account_use",
        "console_login_without_mfa",
        "s3_bucket_made_public",
    }


def test_loading_twice_registers_nothing_twice() -> None:
    assert len(load_rules()) == len(load_rules())


def test_every_rule_reads_declared_logs_and_sends_to_configured_outputs() -> None:
    config = load_config(REPO / "conf")
    assert config.alert_processor is not None

    assert load_rules().problems(config.logs.names, config.alert_processor.outputs) == []
