"""The time a Lambda invocation has left, so that no loop runs past the function's timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


class Deadline:
    """Remaining time of one run, read from the Lambda context (or a clock, outside Lambda). It holds no
    state that changes: every answer reads the time again, so the threads of one run may share it."""

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


@dataclass(frozen=True, slots=True)
class RunBudget:
    """How one run spends its time: the one place that answers "may this call start", "how long may this
    wait last" and "how long may the queue hide this message".

    A call may start while more than ``margin`` seconds are left. The margin covers the longest one
    attempt of an AWS call can take (``attempt_seconds``: the client's connect plus read timeout), so a
    call started in time ends in time. A phase that must leave time to the phases after it (receiving
    leaves time to commit, committing leaves time to delete) works on a budget ``reserving`` that time,
    plus one attempt: its last call may run into the reserve by that much.

    Frozen: the calls a run makes from several threads (the drain's pool) read one budget, and none of
    them can change what another is held to; a phase takes a new budget (``reserving``).
    """

    deadline: Deadline
    margin: float
    attempt_seconds: float = 0.0

    @classmethod
    def for_run(cls, deadline: Deadline, *, safety_seconds: float, attempt_seconds: float = 0.0) -> RunBudget:
        """The run's budget: a margin of ``safety_seconds`` (at most a fifth of the run, so functions of a
        few seconds still work), never less than one attempt of a call plus the time to finish the run
        after it (its summary and metrics: a twentieth of the run, half a second at most)."""
        remaining = deadline.remaining_seconds()
        finish = min(0.5, remaining * 0.05)
        margin = max(min(safety_seconds, remaining * 0.2), attempt_seconds + finish)
        return cls(deadline, margin, attempt_seconds)

    def may_call(self) -> bool:
        """True while a call started now ends before the margin is reached."""
        return self.deadline.has(self.margin)

    def spare_seconds(self) -> float:
        """Seconds left before the margin (0 once it is reached)."""
        return max(0.0, self.deadline.remaining_seconds() - self.margin)

    def wait_seconds(self, wanted: float) -> float:
        """How long a sleep or a long poll that wants ``wanted`` seconds may last."""
        return max(0.0, min(wanted, self.spare_seconds()))

    def hidden_seconds(self) -> float:
        """How long a message received now must stay hidden: until the run is over, with the margin to
        spare, so that no other consumer takes it while this run may still delete it."""
        return self.deadline.remaining_seconds() + self.margin

    def reserving(self, seconds: float) -> RunBudget:
        """A budget for a phase that leaves ``seconds`` to the phases after it, and the length of one
        attempt more (the phase's last call may run that far into the reserve)."""
        return RunBudget(
            self.deadline, self.margin + max(0.0, seconds) + self.attempt_seconds, self.attempt_seconds
        )
