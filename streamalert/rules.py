"""Rules: plain functions over one record, registered with ``@rule``, loaded from the ``rules`` package.

```python
from streamalert.rules import Record, rule

@rule(logs=["cloudtrail:events"], outputs=["s3:alerts"])
def root_account_use(record: Record) -> bool:
    return record["userIdentity"].get("type") == "Root"
```
A rule gets each record classified as one of its ``logs`` and returns True for a match; the match becomes
an alert for its ``outputs``. Rules must not change the record: every rule of its log type sees it next.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamalert.constants import ALERT_OUTPUTS
from streamalert.exceptions import StreamAlertError

Record = dict[str, Any]
RuleFunction = Callable[[Record], bool]

RULES_PACKAGE = "rules"


class RuleDefinitionError(StreamAlertError):
    """A rule declared wrongly: no log types, an unknown output, a name used twice, a module that fails."""


@dataclass(frozen=True)
class Rule:
    """A registered rule; its name is its function's name, and the ``rule_name`` of its alerts."""

    name: str
    function: RuleFunction
    logs: tuple[str, ...]
    outputs: tuple[str, ...]


class RuleRegistry:
    """Rules by name, and by the log types they read."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def rule(self, *, logs: Sequence[str], outputs: Sequence[str]) -> Callable[[RuleFunction], RuleFunction]:
        """The decorator that registers a rule here; the function itself is returned unchanged."""
        checked_logs = _names(logs, "logs", "log type")
        checked_outputs = _names(outputs, "outputs", "output")
        unknown = [output for output in checked_outputs if output not in ALERT_OUTPUTS]
        if unknown:
            raise RuleDefinitionError(
                f"unknown output {', '.join(map(repr, unknown))}; outputs are {', '.join(ALERT_OUTPUTS)}"
            )

        def register(function: RuleFunction) -> RuleFunction:
            name = function.__name__
            if name in self._rules:
                earlier = self._rules[name].function
                raise RuleDefinitionError(
                    f"rule {name!r} of {function.__module__} is already defined in {earlier.__module__}: "
                    "rule names are unique"
                )
            self._rules[name] = Rule(name, function, checked_logs, checked_outputs)
            return function

        return register

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def get(self, name: str) -> Rule | None:
        return self._rules.get(name)

    def for_log_type(self) -> Mapping[str, tuple[Rule, ...]]:
        """Log type -> the rules that read it, in registration order."""
        by_log: dict[str, list[Rule]] = {}
        for registered in self._rules.values():
            for log_type in registered.logs:
                by_log.setdefault(log_type, []).append(registered)
        return {log_type: tuple(rules) for log_type, rules in by_log.items()}

    def problems(self, log_types: Iterable[str], outputs: Iterable[str] | None) -> list[str]:
        """What makes rules unable to fire, or their alerts unable to go where they say, in this
        deployment: log types that logs.json does not declare, outputs the alert processor lacks
        (``outputs`` None: not checked)."""
        declared = set(log_types)
        configured = None if outputs is None else set(outputs)
        found: list[str] = []
        for registered in self._rules.values():
            for log_type in registered.logs:
                if log_type not in declared:
                    found.append(
                        f"rule {registered.name!r} reads log type {log_type!r}, which logs.json does not "
                        "declare: it never fires on it"
                    )
            for output in registered.outputs:
                if configured is not None and output not in configured:
                    found.append(
                        f"rule {registered.name!r} sends to output {output!r}, which alert_processor_config "
                        "does not list: its alerts skip it"
                    )
        return found


def _names(values: Sequence[str], argument: str, what: str) -> tuple[str, ...]:
    if isinstance(values, str) or not values or not all(isinstance(v, str) and v for v in values):
        raise RuleDefinitionError(f"{argument} must be a non-empty list of {what} names, got {values!r}")
    return tuple(dict.fromkeys(values))


# The registry that ``@rule`` fills, and that the rule processor runs
REGISTRY = RuleRegistry()
rule = REGISTRY.rule


def load_rules(package: str = RULES_PACKAGE, registry: RuleRegistry = REGISTRY) -> RuleRegistry:
    """Import every module of ``package`` (and its sub-packages), which registers their rules.

    Raises RuleDefinitionError naming the module that cannot be imported: a broken rule fails the
    deployment's tests and the function's start, never silently.
    """
    try:
        root = importlib.import_module(package)
    except ImportError as err:
        raise RuleDefinitionError(f"cannot import the rules package {package!r}: {err}") from err
    for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}.", onerror=_walk_error):
        try:
            importlib.import_module(module.name)
        except RuleDefinitionError:
            raise
        except Exception as err:  # a rule module's own bug: say which module
            raise RuleDefinitionError(f"cannot import rule module {module.name}: {err!r}") from err
    return registry


def _walk_error(name: str) -> None:
    raise RuleDefinitionError(f"cannot import rule package {name}")


def lookup(record: Mapping[str, Any], *path: str) -> Any:
    """The value at ``path`` of nested objects, or None where a level is missing or not an object:
    ``lookup(record, "additionalEventData", "MFAUsed")``."""
    value: Any = record
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
