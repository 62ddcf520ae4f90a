"""Counting the AWS API calls a run makes, by operation: a measure the tests assert and the benchmarks
report."""

from __future__ import annotations

from collections import Counter
from typing import Any


class CallCounter:
    """Counts the API calls of boto3 clients (a botocore ``before-call`` hook, after parameter validation)
    and of the in-memory fakes (which call ``count``), by operation name, in the order they were made."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.sequence: list[str] = []

    def attach(self, *clients: Any) -> CallCounter:
        for client in clients:
            client.meta.events.register("before-call.*.*", self._count_model)
        return self

    def count(self, operation: str) -> None:
        self.calls[operation] += 1
        self.sequence.append(operation)

    def __getitem__(self, operation: str) -> int:
        return self.calls[operation]

    def reset(self) -> None:
        self.calls.clear()
        self.sequence.clear()

    def _count_model(self, model: Any, **_: Any) -> None:
        self.count(model.name)
