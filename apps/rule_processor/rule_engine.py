"""Runs the rules of a record's log type; a match becomes an alert, a failing rule only a log line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from streamalert.alerts import Alert, utc_now
from streamalert.logger import context, get_logger
from streamalert.rules import Record, RuleRegistry

LOGGER = get_logger(__name__)


@dataclass
class Evaluation:
    """The alerts of one record, and how many of its rules raised."""

    alerts: list[Alert] = field(default_factory=list)
    rule_errors: int = 0


class RuleEngine:
    """The registry's rules, indexed by log type once; ``clock`` stamps alerts (UTC)."""

    def __init__(self, registry: RuleRegistry, clock: Callable[[], datetime] = utc_now) -> None:
        self._rules = registry.for_log_type()
        self._clock = clock

    @property
    def log_types(self) -> tuple[str, ...]:
        """The log types some rule reads."""
        return tuple(self._rules)

    def evaluate(self, log_type: str, record: Record, origin: str) -> Evaluation:
        """Every rule of ``log_type`` on the record, found at ``origin``. A rule that raises is logged with
        its name and counted; the other rules still run."""
        evaluation = Evaluation()
        for registered in self._rules.get(log_type, ()):
            try:
                matched = bool(registered.function(record))
            except Exception as err:  # a rule is user code: its bug must not stop the other rules
                evaluation.rule_errors += 1
                LOGGER.error(
                    "Rule raised on a record: the record is skipped for this rule",
                    extra=context(rule=registered.name, log_type=log_type, origin=origin, error=repr(err)),
                    exc_info=True,
                )
                continue
            if matched:
                evaluation.alerts.append(
                    Alert.create(
                        rule_name=registered.name,
                        log_type=log_type,
                        record=record,
                        outputs=registered.outputs,
                        origin=origin,
                        created=self._clock(),
                    )
                )
        return evaluation
