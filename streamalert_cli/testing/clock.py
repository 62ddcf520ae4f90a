"""The clocks the in-memory fakes read: a virtual one that a test moves, and the real one."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What a fake reads the time from, in seconds, and how it waits (a long poll that finds nothing)."""

    @property
    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


class VirtualClock:
    """Seconds since the start of a run; nothing here ever sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class WallClock:
    """The monotonic clock; waiting really sleeps."""

    @property
    def now(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
