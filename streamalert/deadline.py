"""The time a Lambda invocation has left, so that no loop runs past the function's timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class Deadline:
    """Remaining time of one run, read from the Lambda context (or a clock, outside Lambda)."""

    def __init__(self, remaining_ms: Callable[[], float]) -> None:
        self._remaining_ms = remaining_ms

    @classmethod
    def from_context(cls, context: object, default_seconds: float = 60.0) -> Deadline:
        """The context's deadline; a plain clock budget when there is no Lambda context (local runs)."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            return cls(remaining)
        return cls.after(default_seconds)

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        end = time.monotonic() + seconds
        return cls(lambda: (end - time.monotonic()) * 1000.0)

    def remaining_seconds(self) -> float:
        return max(0.0, self._remaining_ms() / 1000.0)

    def has(self, seconds: float) -> bool:
        """True while more than ``seconds`` are left."""
        return self.remaining_seconds() > seconds
