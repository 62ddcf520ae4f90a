"""The rule framework: the decorator's checks, the registry by log type, cross-checks, and the loader."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streamalert.rules import Record, RuleDefinitionError, RuleRegistry, load_rules, lookup


def always(record: Record) -> bool:
    return True


def never(record: Record) -> bool:
    return False


def test_the_decorator_registers_and_returns_the_function() -> None:
    registry = RuleRegistry()

    decorated = registry.rule(logs=["cloudtrail:events"], outputs=["s3:alerts", "log"])(always)

    assert decorated is always
    registered = registry.get("always")
    assert registered is not None
    assert (registered.logs, registered.outputs) == (("cloudtrail:events",), ("s3:alerts", "log"))


@pytest.mark.parametrize(
    ("logs", "outputs", "message"),
    [
        ([], ["s3:alerts"], r"logs must be a non-empty list of log type names, got \[\]"),
        ("cloudtrail:events", ["s3:alerts"], r"logs must be a non-empty list of log type names"),
        (["cloudtrail:events", ""], ["s3:alerts"], r"logs must be a non-empty list"),
        (["cloudtrail:events"], [], r"outputs must be a non-empty list of output names"),
        (
            ["cloudtrail:events"],
            ["s3:alerts", "slack"],
            r"unknown output 'slack'; outputs are s3:alerts, log",
        ),
    ],
)
def test_the_decorator_refuses_bad_declarations(logs: Any, outputs: Any, message: str) -> None:
    with pytest.raises(RuleDefinitionError, match=message):
        RuleRegistry().rule(logs=logs, outputs=outputs)


def test_rule_names_are_unique() -> None:
    registry = RuleRegistry()
    registry.rule(logs=["a"], outputs=["log"])(always)

    with pytest.raises(RuleDefinitionError, match=r"rule 'always' of .* is already defined in"):
        registry.rule(logs=["b"], outputs=["log"])(always)


def test_rules_by_log_type_keep_registration_order() -> None:
    registry = RuleRegistry()
    registry.rule(logs=["a", "b"], outputs=["log"])(never)
    registry.rule(logs=["a"], outputs=["log"])(always)

    assert {log: [r.name for r in rules] for log, rules in registry.for_log_type().items()} == {
        "a": ["never", "always"],
        "b": ["never"],
    }


def test_problems_name_undeclared_logs_and_unconfigured_outputs() -> None:
    registry = RuleRegistry()
    registry.rule(logs=["cloudtrail:events", "osquery:snapshot"], outputs=["s3:alerts", "log"])(always)

    assert registry.problems(["cloudtrail:events"], ["s3:alerts"]) == [
        "rule 'always' reads log type 'osquery:snapshot', which logs.json does not declare: "
        "it never fires on it",
        "rule 'always' sends to output 'log', which alert_processor_config does not list: its alerts skip it",
    ]
    assert registry.problems(["cloudtrail:events", "osquery:snapshot"], None) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("a", "b"), 1),
        (("a", "missing"), None),
        (("a", "b", "c"), None),
        (("x", "y"), None),
    ],
)
def test_lookup(path: tuple[str, ...], expected: Any) -> None:
    assert lookup({"a": {"b": 1}, "x": None}, *path) == expected


@pytest.fixture
def rules_package(tmp_path: Path) -> Iterator[Path]:
    """An importable package ``fakerules`` with its own registry, removed from sys.modules afterwards."""
    package = tmp_path / "fakerules"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from streamalert.rules import RuleRegistry\nREGISTRY = RuleRegistry()\nrule = REGISTRY.rule\n"
    )
    (package / "sub" / "__init__.py").write_text("")
    rule_module = (
        "from fakerules import rule\n\n@rule(logs=['{log}'], outputs=['log'])\ndef {name}(record):\n"
    )
    (package / "first.py").write_text(rule_module.format(log="a", name="first") + "    return True\n")
    (package / "sub" / "second.py").write_text(
        rule_module.format(log="b", name="second") + "    return True\n"
    )
    sys.path.insert(0, str(tmp_path))
    yield package
    sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name.split(".")[0] == "fakerules"]:
        del sys.modules[name]


def test_load_rules_imports_every_module_and_sub_package(rules_package: Path) -> None:
    import fakerules  # type: ignore[import-not-found]

    registry = load_rules("fakerules", fakerules.REGISTRY)

    assert sorted(rule.name for rule in registry) == ["first", "second"]


def test_a_broken_rule_module_is_named(rules_package: Path) -> None:
    (rules_package / "broken.py").write_text("import nothing_of_that_name\n")
    import fakerules

    with pytest.raises(
        RuleDefinitionError, match=r"cannot import rule module fakerules\.broken: .*nothing_of_that"
    ):
        load_rules("fakerules", fakerules.REGISTRY)


def test_a_missing_rules_package() -> None:
    with pytest.raises(RuleDefinitionError, match="cannot import the rules package 'no_such_rules'"):
        load_rules("no_such_rules", RuleRegistry())
