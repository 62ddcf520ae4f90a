"""refresh_interval schedule expressions: rate(...) with the singular/plural rule, six-field cron(...)."""

from __future__ import annotations

import pytest

from config_schemas.schedule import schedule_problem


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "cron(0 12 * * ? *)",
        "cron(0/15 * ? * MON-FRI *)",
        "cron(5,35 14 * * ? 2025-2030)",
        "cron(0 8 1 JAN,jul ? *)",
        "cron(0 10 ? * 6L *)",
        "cron(0 10 ? * 2#1 *)",
        "cron(0 10 L * ? *)",
        "cron(0 10 LW * ? *)",
        "cron(0 10 15W * ? *)",
        "cron(*/5 1-23/2 ? * SUN,SAT 2199)",
    ],
)
def test_valid_schedule_expressions(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("rate(1 minutes)", "a value of 1 takes the singular unit: rate(1 minute)"),
        ("rate(5 minute)", "a value above 1 takes the plural unit: rate(5 minutes)"),
        ("rate(0 minutes)", "must be a positive whole number, got 0"),
        ("rate(-3 hours)", "must be a positive whole number, got -3"),
        ("rate(1.5 hours)", 'must be a whole number, got "1.5"'),
        ("rate(2 weeks)", 'unit must be minute(s), hour(s) or day(s), got "weeks"'),
        ("rate(5  minutes)", "with one space"),
        ("10 minutes", "must start with rate( or cron("),
        ("cron(0 12 * * ?)", "six fields"),
        ("cron(60 * * * ? *)", 'minutes: "60" is not allowed; use 0-59'),
        ("cron(0 24 * * ? *)", 'hours: "24" is not allowed; use 0-23'),
        ("cron(0 12 32 * ? *)", 'day-of-month: "32" is not allowed'),
        ("cron(0 12 ? 13 MON *)", 'month: "13" is not allowed; use 1-12 or JAN-DEC'),
        ("cron(0 12 ? * 8 *)", 'day-of-week: "8" is not allowed; use 1-7 or SUN-SAT'),
        ("cron(0 12 ? * FUN *)", 'day-of-week: "FUN" is not allowed'),
        ("cron(0 12 1 * ? 1969)", 'year: "1969" is not allowed; use 1970-2199'),
        ("cron(0 12 * * * *)", 'exactly one of day-of-month and day-of-week must be "?"'),
        ("cron(0 12 ? * ? *)", 'exactly one of day-of-month and day-of-week must be "?"'),
        ("cron(? 12 * * ? *)", 'minutes: "?" is only allowed in day-of-month and day-of-week'),
        ("cron(0 12 ? * MON#6 *)", "the number after # must be from 1 to 5"),
        ("cron(0 12 ? * 2W *)", 'day-of-week: "2W" is not allowed'),
        ("cron(0 12 5L * ? *)", 'day-of-month: "5L" is not allowed'),
        ("cron(*/0 * * * ? *)", "the step after / must be a whole number from 1 to 60"),
        ("cron(0,,5 * * * ? *)", "empty item"),
    ],
)
def test_invalid_schedule_expressions(expression: str, reason: str) -> None:
    problem = schedule_problem(expression)

    assert problem is not None
    assert reason in problem
