"""Which log type a record is: the first type of ``logs.json``, in file order, whose schema it fits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from config_schemas.models import LogType, ValueType


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_ACCEPTS: dict[ValueType, Callable[[Any], bool]] = {
    ValueType.STRING: lambda value: isinstance(value, str),
    ValueType.INTEGER: _is_integer,
    ValueType.NUMBER: _is_number,
    ValueType.BOOLEAN: lambda value: isinstance(value, bool),
    ValueType.OBJECT: lambda value: isinstance(value, dict),
    ValueType.ARRAY: lambda value: isinstance(value, list),
}


class Classifier:
    """Fits records to log types. A key of the record whose value is null fits no type."""

    def __init__(self, log_types: Sequence[LogType]) -> None:
        self._log_types = tuple(log_types)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(log_type.name for log_type in self._log_types)

    def classify(self, record: Mapping[str, Any]) -> str | None:
        """The name of the record's log type, or None when it fits none."""
        for log_type in self._log_types:
            if all(key in record and _ACCEPTS[kind](record[key]) for key, kind in log_type.schema):
                return log_type.name
        return None
