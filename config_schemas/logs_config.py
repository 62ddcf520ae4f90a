"""The schema of ``conf/logs.json``: the log types that the rule processor classifies records into.

```json
{"cloudtrail:events": {"schema": {"eventName": "string", "eventSource": "string", "userIdentity": "object"}}}
```
A record is of the first type, in file order, whose every key it has with a value of that key's type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError
from marshmallow.exceptions import SCHEMA

from config_schemas.fields import StrictField, StrictSchema, describe
from config_schemas.models import LogsConfig, LogType, ValueType

LOG_TYPE_PATTERN = r"[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)?"
_LOG_TYPE_NAME = re.compile(LOG_TYPE_PATTERN)
_LOG_TYPE_MAX = 64
_LOG_TYPE_RULE = (
    f"lowercase letters, digits and underscores, starting with a letter, optionally followed by ':' and "
    f'a second such word, at most {_LOG_TYPE_MAX} characters, e.g. "cloudtrail:events"'
)
_TYPE_VALUES = tuple(value_type.value for value_type in ValueType)
_TYPE_NAMES = ", ".join(f'"{value}"' for value in _TYPE_VALUES)


def log_type_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name a log type, or None."""
    if isinstance(name, str) and len(name) <= _LOG_TYPE_MAX and _LOG_TYPE_NAME.fullmatch(name):
        return None
    shown = json.dumps(name, ensure_ascii=False) if isinstance(name, str) else describe(name)
    return f"Not a valid log type name: {shown} ({_LOG_TYPE_RULE})"


class KeyTypes(StrictField[tuple[tuple[str, ValueType], ...]]):
    """``schema``: the keys a record must have, each mapped to the JSON type of its value."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(f"must be an object mapping record keys to types ({_TYPE_NAMES})", **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[tuple[str, ValueType], ...]:
        if not isinstance(value, Mapping):
            raise self.refuse(value)
        if not value:
            raise ValidationError(
                "must name at least one key (a log type without keys would take every record)"
            )
        keys: list[tuple[str, ValueType]] = []
        errors: dict[str, list[str]] = {}
        for key, type_name in value.items():
            if not key:
                errors[key] = ["a record key must not be empty"]
            elif type_name not in _TYPE_VALUES:
                errors[key] = [f"must be one of {_TYPE_NAMES}, got {describe(type_name)}"]
            else:
                keys.append((key, ValueType(type_name)))
        if errors:
            raise ValidationError(errors)
        return tuple(keys)


class LogTypeSchema(StrictSchema):
    """One log type's block: ``{"schema": {key: type}}``."""

    schema = KeyTypes(required=True)


class LogsConfigField(StrictField[LogsConfig]):
    """The whole of ``logs.json``, log type names mapped to their blocks, loaded as ``LogsConfig``.

    A field rather than a schema because the keys are names that users choose; each block is a
    ``LogTypeSchema``, so unknown keys inside one are refused as everywhere else.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('must be a JSON object mapping log type names to {"schema": {...}}', **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> LogsConfig:
        if not isinstance(value, Mapping):
            raise self.refuse(value)
        log_types: list[LogType] = []
        errors: dict[str, Any] = {}
        for name, block in value.items():
            problems: dict[str, Any] = {}
            name_problem = log_type_name_problem(name)
            if name_problem:
                problems[SCHEMA] = [name_problem]
            if not isinstance(block, Mapping):
                problems.setdefault(SCHEMA, []).append(
                    f'must be a JSON object like {{"schema": {{...}}}}, got {describe(block)}'
                )
            else:
                try:
                    loaded = LogTypeSchema().load(block)
                except ValidationError as err:
                    problems.update(err.messages_dict)
                else:
                    if not name_problem:
                        log_types.append(LogType(name, loaded["schema"]))
            if problems:
                errors[name] = problems
        if errors:
            raise ValidationError(errors)
        return LogsConfig(tuple(log_types))
