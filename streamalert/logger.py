"""JSON logging: one object a line with level, message, logger and context."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

_CONTEXT_ATTR = "context"
_ROOT_NAME = "streamalert"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; ``extra={"context": {...}}`` adds structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        context = getattr(record, _CONTEXT_ATTR, None)
        if context:
            entry["context"] = context
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the call (so that redirections apply)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def get_logger(name: str) -> logging.Logger:
    """A logger under the project's root logger, which writes JSON lines once configured."""
    inside = name == _ROOT_NAME or name.startswith(f"{_ROOT_NAME}.")
    return logging.getLogger(name if inside else f"{_ROOT_NAME}.{name}")


def configure(level: str = "info") -> None:
    """Set the project's log level and make sure its records are written as JSON lines to stderr.

    Idempotent: warm Lambda containers call it on every invocation. Lambda's own root handler
    is left alone; the project's logger writes through its own handler and does not propagate.
    """
    root = logging.getLogger(_ROOT_NAME)
    root.setLevel(level.upper())
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.propagate = False


def context(**fields: Any) -> dict[str, Any]:
    """The ``extra`` of a log call that carries structured context: ``log.info("x", extra=context(a=1))``."""
    return {_CONTEXT_ATTR: fields}
