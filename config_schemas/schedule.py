"""CloudWatch Events / EventBridge schedule expressions: ``rate(...)`` and six-field ``cron(...)``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from streamalert.exceptions import StreamAlertError

_RATE = re.compile(r"rate\((\S+) (\S+)\)")
_CRON = re.compile(r"cron\((.*)\)")
_RATE_UNITS = ("minute", "hour", "day")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_SHAPE = "cron(minutes hours day-of-month month day-of-week year)"


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names for low, low + 1, ...
    allows_question: bool = False
    specials: str = ""

    @property
    def allowed(self) -> str:
        names = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.low}-{self.high}{names} with , - * /{self.specials}"


_MINUTES = _CronField("minutes", 0, 59)
_HOURS = _CronField("hours", 0, 23)
_DAY_OF_MONTH = _CronField("day-of-month", 1, 31, allows_question=True, specials=" ? L W")
_MONTH = _CronField("month", 1, 12, _MONTHS)
_DAY_OF_WEEK = _CronField("day-of-week", 1, 7, _DAYS, allows_question=True, specials=" ? L #")
_YEAR = _CronField("year", 1970, 2199)
_CRON_FIELDS = (_MINUTES, _HOURS, _DAY_OF_MONTH, _MONTH, _DAY_OF_WEEK, _YEAR)


class _ScheduleError(StreamAlertError):
    """A schedule expression that AWS would refuse; the message says why. Never leaves this module:
    ``schedule_problem`` turns it into the problem it returns."""


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid schedule expression, or None when it is."""
    try:
        if expression.startswith("rate("):
            _check_rate(expression)
        elif expression.startswith("cron("):
            _check_cron(expression)
        else:
            raise _ScheduleError("it must start with rate( or cron(")
    except _ScheduleError as err:
        return str(err)
    return None


def _check_rate(expression: str) -> None:
    match = _RATE.fullmatch(expression)
    if not match:
        raise _ScheduleError(
            "a rate expression is rate(<value> <unit>) with one space, e.g. rate(10 minutes)"
        )
    value_text, unit = match.groups()
    if not re.fullmatch(r"-?\d+", value_text):
        raise _ScheduleError(f'the rate value must be a whole number, got "{value_text}"')
    value = int(value_text)
    if value <= 0:
        raise _ScheduleError(f"the rate value must be a positive whole number, got {value}")
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS:
        raise _ScheduleError(f'the rate unit must be minute(s), hour(s) or day(s), got "{unit}"')
    if value == 1 and unit != singular:
        raise _ScheduleError(f"a value of 1 takes the singular unit: rate(1 {singular})")
    if value > 1 and unit == singular:
        raise _ScheduleError(f"a value above 1 takes the plural unit: rate({value} {singular}s)")


def _check_cron(expression: str) -> None:
    match = _CRON.fullmatch(expression)
    if not match:
        raise _ScheduleError(f"a cron expression is {_CRON_SHAPE}")
    parts = match.group(1).split()
    if len(parts) != len(_CRON_FIELDS):
        raise _ScheduleError(f"a cron expression has six fields, {_CRON_SHAPE}, got {len(parts)}")
    problems = []
    for cron_field, text in zip(_CRON_FIELDS, parts, strict=True):
        try:
            _check_cron_field(cron_field, text)
        except _ScheduleError as err:
            problems.append(f"{cron_field.name}: {err}")
    day_of_month, day_of_week = parts[2], parts[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        problems.append(
            'exactly one of day-of-month and day-of-week must be "?" (the other picks the days), '
            "e.g. cron(0 12 * * ? *)"
        )
    if problems:
        raise _ScheduleError("; ".join(problems))


def _check_cron_field(cron_field: _CronField, text: str) -> None:
    if text == "?":
        if not cron_field.allows_question:
            raise _ScheduleError('"?" is only allowed in day-of-month and day-of-week')
        return
    for item in text.split(","):
        if not item:
            raise _ScheduleError("empty item in a comma-separated list")
        if item == "?":
            raise _ScheduleError('"?" must stand alone, not in a list')
        if cron_field is _DAY_OF_MONTH and _is_day_of_month_special(item):
            continue
        if cron_field is _DAY_OF_WEEK and _is_day_of_week_special(item):
            continue
        _check_range_item(cron_field, item)


def _check_range_item(cron_field: _CronField, item: str) -> None:
    """Check ``*``, ``N``, ``N-M``, each optionally followed by ``/step``."""
    base, slash, step = item.partition("/")
    if slash:
        step_limit = cron_field.high - cron_field.low + 1
        if not step.isdigit() or not 1 <= int(step) <= step_limit:
            raise _ScheduleError(f"the step after / must be a whole number from 1 to {step_limit}")
    if base == "*":
        return
    for bound in base.split("-", 1):
        _cron_value(cron_field, bound)


def _cron_value(cron_field: _CronField, text: str) -> int:
    if text.upper() in cron_field.names:
        return cron_field.low + cron_field.names.index(text.upper())
    if text.isdigit() and cron_field.low <= int(text) <= cron_field.high:
        return int(text)
    raise _ScheduleError(f'"{text}" is not allowed; use {cron_field.allowed}')


def _is_day_of_month_special(item: str) -> bool:
    """``L`` (last day), ``LW`` (last weekday) or ``<day>W`` (weekday nearest to that day)."""
    if item in ("L", "LW"):
        return True
    if item.endswith("W") and item != "W":
        _cron_value(_DAY_OF_MONTH, item[:-1])
        return True
    return False


def _is_day_of_week_special(item: str) -> bool:
    """``L`` (last day of the week), ``<day>L`` (last such day of the month), ``<day>#<n>`` (n-th one)."""
    if item == "L":
        return True
    if item.endswith("L"):
        _cron_value(_DAY_OF_WEEK, item[:-1])
        return True
    day, hash_sign, nth = item.partition("#")
    if hash_sign:
        _cron_value(_DAY_OF_WEEK, day)
        if nth not in ("1", "2", "3", "4", "5"):
            raise _ScheduleError(f'the number after # must be from 1 to 5, got "{nth}"')
        return True
    return False
