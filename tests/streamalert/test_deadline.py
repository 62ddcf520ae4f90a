"""The time left to a run: from the Lambda context, or a clock budget outside Lambda."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from streamalert.deadline import Deadline, RunBudget
from tests.helpers import FakeContext


def test_from_context_reads_the_lambda_remaining_time() -> None:
    context = FakeContext(remaining_ms=42_500)

    deadline = Deadline.from_context(context)

    assert deadline.remaining_seconds() == pytest.approx(42.5)
    context.remaining_ms = 3_000
    assert deadline.remaining_seconds() == pytest.approx(3.0)


def test_from_context_follows_the_context_as_time_passes() -> None:
    deadline = Deadline.from_context(FakeContext(remaining_ms=10_000, tick_ms=4_000))

    assert [deadline.remaining_seconds() for _ in range(4)] == [6.0, 2.0, 0.0, 0.0]


@pytest.mark.parametrize("context", [None, object(), {"get_remaining_time_in_millis": 5}])
def test_without_a_lambda_context_the_default_budget_applies(context: object) -> None:
    with freeze_time("2024-01-01 00:00:00") as clock:
        deadline = Deadline.from_context(context)
        assert deadline.remaining_seconds() == pytest.approx(60.0)

        clock.tick(45)
        assert deadline.remaining_seconds() == pytest.approx(15.0)


def test_custom_budget_without_context() -> None:
    with freeze_time("2024-01-01 00:00:00") as clock:
        deadline = Deadline.from_context(None, default_seconds=5)
        clock.tick(2)

        assert deadline.remaining_seconds() == pytest.approx(3.0)


def test_after_counts_down_and_never_goes_negative() -> None:
    with freeze_time("2024-01-01 00:00:00") as clock:
        deadline = Deadline.after(10)
        clock.tick(4)
        assert deadline.remaining_seconds() == pytest.approx(6.0)

        clock.tick(60)
        assert deadline.remaining_seconds() == 0.0


def test_remaining_time_is_never_negative() -> None:
    context = FakeContext(remaining_ms=0)
    context.get_remaining_time_in_millis = lambda: -2_000  # type: ignore[method-assign]

    assert Deadline.from_context(context).remaining_seconds() == 0.0


@pytest.mark.parametrize(
    ("remaining_ms", "seconds", "has"),
    [(10_000, 2.0, True), (2_001, 2.0, True), (2_000, 2.0, False), (1_000, 2.0, False), (0, 0.0, False)],
)
def test_has_is_true_only_while_more_than_that_is_left(remaining_ms: int, seconds: float, has: bool) -> None:
    assert Deadline.from_context(FakeContext(remaining_ms=remaining_ms)).has(seconds) is has


def budget_with(remaining: float, **options: float) -> RunBudget:
    return RunBudget.for_run(Deadline(lambda: remaining * 1000.0), **options)


@pytest.mark.parametrize(
    ("remaining", "attempt", "margin"),
    [(60, 0, 5.0), (10, 0, 2.0), (60, 8, 8.5), (3, 1.5, 1.65), (900, 25, 25.5)],
)
def test_the_margin_is_the_safety_time_and_never_less_than_one_attempt(
    remaining: float, attempt: float, margin: float
) -> None:
    budget = budget_with(remaining, safety_seconds=5.0, attempt_seconds=attempt)

    assert budget.margin == pytest.approx(margin)


def test_a_call_may_start_only_before_the_margin() -> None:
    assert budget_with(5.01, safety_seconds=5.0).may_call()
    assert not budget_with(5.0, safety_seconds=5.0, attempt_seconds=5.0).may_call()


def test_waits_end_at_the_margin_and_messages_stay_hidden_past_the_run() -> None:
    budget = budget_with(30, safety_seconds=5.0)

    assert budget.wait_seconds(2) == 2
    assert budget.wait_seconds(60) == pytest.approx(25.0)
    assert budget.hidden_seconds() == pytest.approx(35.0)


def test_a_phase_reserving_time_leaves_it_and_one_attempt_more() -> None:
    budget = budget_with(60, safety_seconds=5.0, attempt_seconds=8.0)

    committing = budget.reserving(3.0)

    assert committing.margin == pytest.approx(8.5 + 3.0 + 8.0)
    assert budget_with(18.9, safety_seconds=5.0, attempt_seconds=8.0).reserving(3.0).may_call() is False
