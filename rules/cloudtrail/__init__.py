"""Rules over CloudTrail events (log type ``cloudtrail:events``)."""

from __future__ import annotations

from typing import Any

from streamalert.rules import Record

CLOUDTRAIL = "cloudtrail:events"


def succeeded(record: Record) -> bool:
    """True when the call succeeded: CloudTrail writes ``errorCode`` only for failed calls."""
    return not record.get("errorCode")


def as_list(value: Any) -> list[Any]:
    """CloudTrail writes one element as itself and several as an array: always a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
