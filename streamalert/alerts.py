"""The alert: what a rule match becomes, how it travels as JSON, and where it is stored in the alerts bucket.

```json
{"id": "6f1c...", "rule_name": "root_account_use", "log_type": "cloudtrail:events", "record": {...},
 "created": "2024-05-01T12:34:56.789Z", "outputs": ["s3:alerts"]}
```
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from streamalert.constants import ALERTS_KEY_PREFIX
from streamalert.exceptions import StreamAlertError

# Alert ids are UUIDs derived from the rule and the record's place in its input, so that a retried
# invocation produces the same ids and the alert processor overwrites, not duplicates, what it wrote.
_ALERT_ID_NAMESPACE = uuid.UUID("a7d0f3f4-3c1b-5b8e-9a52-6d1f0e2b7c41")
_FIELDS = ("id", "rule_name", "log_type", "record", "created", "outputs")


class AlertFormatError(StreamAlertError):
    """A message that is not an alert as the rule processor writes it."""


def alert_id(rule_name: str, origin: str) -> str:
    """The id of the alert that ``rule_name`` raises on the record found at ``origin`` (stable across
    retries)."""
    return str(uuid.uuid5(_ALERT_ID_NAMESPACE, f"{rule_name}\n{origin}"))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Alert:
    """A rule match. ``created`` is timezone-aware UTC; ``record`` is the matched record, unchanged."""

    id: str
    rule_name: str
    log_type: str
    record: dict[str, Any]
    created: datetime
    outputs: tuple[str, ...]

    @classmethod
    def create(
        cls,
        *,
        rule_name: str,
        log_type: str,
        record: dict[str, Any],
        outputs: Sequence[str],
        origin: str,
        created: datetime,
    ) -> Alert:
        """A new alert; its id comes from the rule and ``origin`` (where the record was read)."""
        return cls(
            id=alert_id(rule_name, origin),
            rule_name=rule_name,
            log_type=log_type,
            record=record,
            created=created.astimezone(timezone.utc),
            outputs=tuple(outputs),
        )

    @property
    def s3_key(self) -> str:
        """``alerts/dt=YYYY-MM-DD-HH/<id>.json``: the hour of ``created`` is the Athena partition."""
        return f"{ALERTS_KEY_PREFIX}/dt={self.created:%Y-%m-%d-%H}/{self.id}.json"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_name": self.rule_name,
            "log_type": self.log_type,
            "record": self.record,
            "created": format_time(self.created),
            "outputs": list(self.outputs),
        }

    def to_json(self) -> str:
        """One line of JSON (the Athena JSON SerDe reads one object a line)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, text: str) -> Alert:
        """Read an alert written by ``to_json``; AlertFormatError says what is wrong with anything else."""
        try:
            document = json.loads(text)
        except (TypeError, ValueError, RecursionError) as err:
            raise AlertFormatError(f"not JSON: {err}") from err
        if not isinstance(document, dict):
            raise AlertFormatError(f"JSON {type(document).__name__}, not an object")
        missing = [name for name in _FIELDS if name not in document]
        if missing:
            raise AlertFormatError(f"missing {', '.join(missing)}")
        return cls(
            id=_uuid(document["id"]),
            rule_name=_string(document, "rule_name"),
            log_type=_string(document, "log_type"),
            record=_record(document["record"]),
            created=parse_time(document["created"]),
            outputs=_outputs(document["outputs"]),
        )


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: ``2024-05-01T12:34:56.789Z``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: Any) -> datetime:
    """An ISO 8601 time with a timezone (``Z`` or an offset), as UTC."""
    if not isinstance(text, str):
        raise AlertFormatError(f"created must be an ISO 8601 string, got {text!r}")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise AlertFormatError(f"created is not an ISO 8601 time: {text!r}") from err
    if moment.tzinfo is None:
        raise AlertFormatError(f"created has no timezone: {text!r}")
    return moment.astimezone(timezone.utc)


def _uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError) as err:
        raise AlertFormatError(f"id is not a UUID: {value!r}") from err


def _string(document: dict[str, Any], name: str) -> str:
    value = document[name]
    if not isinstance(value, str) or not value:
        raise AlertFormatError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _record(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AlertFormatError(f"record must be an object, got {type(value).__name__}")
    return value


def _outputs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(output, str) for output in value):
        raise AlertFormatError(f"outputs must be an array of strings, got {value!r}")
    return tuple(value)
