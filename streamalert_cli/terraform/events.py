"""Terraform's machine-readable UI (``-json``), read a line at a time as it arrives.

Each line is a JSON object with ``type``, ``@message`` and ``@timestamp``; the types read here are
``planned_change``, ``change_summary``, ``apply_start`` / ``apply_complete`` / ``apply_errored``,
``refresh_start`` / ``refresh_complete`` and ``diagnostic`` (terraform's internals/machine-readable-ui page).
Everything else (``version``, ``log``, ``init_output``, ``outputs``) is kept as its message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# Resource changes an apply performs, each one apply_complete event (a replacement is a delete and a create);
# reads, moves, imports and removals from state are not counted in the plan's summary
_APPLY_STEPS = {"create": 1, "update": 1, "delete": 1, "replace": 2}
PAST_TENSE = {"create": "created", "update": "updated", "delete": "destroyed", "read": "read"}


@dataclass(frozen=True)
class Diagnostic:
    """One of terraform's errors or warnings, whole: ``summary`` and ``detail`` as terraform wrote them, the
    resource it is about and where in the configuration (a file relative to the working directory)."""

    severity: str
    summary: str
    detail: str = ""
    address: str = ""
    filename: str = ""
    line: int | None = None
    context: str = ""

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Diagnostic:
        where = raw.get("range") or {}
        snippet = raw.get("snippet") or {}
        return cls(
            severity=str(raw.get("severity", "error")),
            summary=str(raw.get("summary", "")),
            detail=str(raw.get("detail") or ""),
            address=str(raw.get("address") or ""),
            filename=str(where.get("filename") or ""),
            line=(where.get("start") or {}).get("line"),
            context=str(snippet.get("context") or ""),
        )

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def lines(self, workdir: Path | None = None) -> list[str]:
        """The diagnostic as text: ``Error: <summary>``, then (indented) the resource, the file and line
        (under ``workdir`` when given), and every line of the detail."""
        text = [f"{self.severity.capitalize()}: {self.summary}"]
        if self.address:
            text.append(f"  resource: {self.address}")
        if self.filename:
            path = str(workdir / self.filename) if workdir is not None else self.filename
            location = f"{path}:{self.line}" if self.line is not None else path
            text.append(f"  at: {location}" + (f" ({self.context})" if self.context else ""))
        text += [f"  {line}".rstrip() for line in self.detail.strip().splitlines()]
        return text


@dataclass(frozen=True)
class ChangeCounts:
    """A ``change_summary``: what a plan will do, or what an apply or destroy did."""

    add: int
    change: int
    remove: int
    operation: str

    @property
    def steps(self) -> int:
        return self.add + self.change + self.remove


@dataclass(frozen=True)
class Event:
    """One line of terraform's ``-json`` output. ``address`` and ``action`` are the resource and change of
    a planned_change or apply/refresh hook; ``elapsed`` terraform's whole seconds of a finished hook."""

    kind: str
    message: str
    timestamp: datetime | None = None
    address: str = ""
    action: str = ""
    elapsed: float | None = None
    changes: ChangeCounts | None = None
    diagnostic: Diagnostic | None = None

    @property
    def apply_steps(self) -> int:
        """How many apply_complete events a planned change of this action leads to."""
        return _APPLY_STEPS.get(self.action, 0) if self.kind == "planned_change" else 0


EventHandler = Callable[[Event], None]


def parse_line(line: str) -> Event | None:
    """The event of one output line; None for a line that is not terraform's JSON (what it prints before
    its JSON view starts, such as a usage error, is plain text)."""
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict) or "type" not in raw:
        return None
    subject = raw.get("hook") or raw.get("change") or {}
    resource = subject.get("resource") or {}
    diagnostic = raw.get("diagnostic")
    return Event(
        kind=str(raw["type"]),
        message=str(raw.get("@message", "")),
        timestamp=_timestamp(raw.get("@timestamp")),
        address=str(resource.get("addr", "")),
        action=str(subject.get("action", "")),
        elapsed=subject.get("elapsed_seconds"),
        changes=_change_counts(raw.get("changes")),
        diagnostic=Diagnostic.from_json(diagnostic) if isinstance(diagnostic, dict) else None,
    )


def _change_counts(counts: object) -> ChangeCounts | None:
    if not isinstance(counts, dict):
        return None
    return ChangeCounts(
        add=int(counts.get("add", 0)),
        change=int(counts.get("change", 0)),
        remove=int(counts.get("remove", 0)),
        operation=str(counts.get("operation", "")),
    )


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Completed:
    """A resource change that finished: the ``done``-th of ``total``."""

    address: str
    action: str
    seconds: float | None
    done: int
    total: int
    failed: bool = False

    def line(self) -> str:
        """``12/50 aws_sqs_queue.refresh created (1.2s)``."""
        verb = f"{self.action} failed" if self.failed else PAST_TENSE.get(self.action, self.action)
        took = f" ({self.seconds:.1f}s)" if self.seconds is not None else ""
        return f"{self.done}/{self.total} {self.address} {verb}{took}"


class ResourceCount:
    """Resources done of the plan's total, as events arrive. The total is the plan's change_summary when
    the stream has one (``terraform plan``), else the sum of its planned changes (an apply of a saved plan
    lists them first); it grows when more finish than were announced."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.running: dict[str, datetime | None] = {}
        self._planned = 0
        self._summarised = False

    def update(self, event: Event) -> Completed | None:
        """Take one event; the change it completes (or fails), if any."""
        if event.kind == "planned_change" and not self._summarised:
            self._planned += event.apply_steps
            self.total = max(self._planned, self.done)
        elif event.kind == "change_summary" and event.changes and event.changes.operation == "plan":
            self._summarised = True
            self.total = max(event.changes.steps, self.done)
        elif event.kind == "apply_start":
            self.running[event.address] = event.timestamp
        elif event.kind in ("apply_complete", "apply_errored"):
            return self._finish(event, failed=event.kind == "apply_errored")
        return None

    def _finish(self, event: Event, failed: bool) -> Completed:
        started = self.running.pop(event.address, None)
        if not failed and event.action in _APPLY_STEPS:
            self.done += 1
            self.total = max(self.total, self.done)
        seconds = event.elapsed
        if started is not None and event.timestamp is not None:
            seconds = (event.timestamp - started).total_seconds()
        return Completed(event.address, event.action, seconds, self.done, self.total, failed)
