"""JSON logs: one object a line with level, message, logger and context; configure is safe to repeat."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from streamalert.logger import JsonFormatter, configure, context, get_logger


@pytest.fixture(autouse=True)
def project_logger() -> Iterator[logging.Logger]:
    """The project's root logger, bare for the test and restored after it."""
    root = logging.getLogger("streamalert")
    saved = (root.handlers[:], root.level, root.propagate)
    root.handlers.clear()
    root.propagate = True
    yield root
    root.handlers[:], root.level, root.propagate = saved


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    captured = capsys.readouterr()
    assert captured.out == ""
    return [json.loads(line) for line in captured.err.splitlines()]


def test_each_record_is_one_json_object_with_level_message_logger_and_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("info")
    log = get_logger("apps.athena_refresh")

    log.info("Registered %d partitions", 3, extra=context(table="cloudtrail", failed=[]))
    log.warning("Plain message")

    assert json_lines(capsys) == [
        {
            "level": "INFO",
            "message": "Registered 3 partitions",
            "logger": "streamalert.apps.athena_refresh",
            "context": {"table": "cloudtrail", "failed": []},
        },
        {"level": "WARNING", "message": "Plain message", "logger": "streamalert.apps.athena_refresh"},
    ]


def test_multi_line_and_unicode_messages_stay_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure()

    get_logger(__name__).info("line one\nline two données", extra=context(key="a/b\nc"))

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    entry = json.loads(err)
    assert entry["message"] == "line one\nline two données"
    assert "données" in err  # kept readable, not \u-escaped


def test_values_json_cannot_encode_are_written_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    configure()

    get_logger(__name__).info("odd values", extra=context(items={"a"}, at=datetime(2024, 1, 1, 5)))

    assert json_lines(capsys)[0]["context"] == {"items": "{'a'}", "at": "2024-01-01 05:00:00"}


def test_exceptions_are_logged_inside_the_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    configure()

    try:
        raise ValueError("boom")
    except ValueError:
        get_logger(__name__).exception("Refresh failed")

    (entry,) = json_lines(capsys)
    assert entry["level"] == "ERROR"
    assert entry["message"] == "Refresh failed"
    assert "ValueError: boom" in entry["exception"]
    assert "Traceback" in entry["exception"]


def test_configure_is_idempotent(project_logger: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        configure("info")

    get_logger(__name__).info("once")

    json_handlers = [h for h in project_logger.handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(json_handlers) == 1
    assert [entry["message"] for entry in json_lines(capsys)] == ["once"]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("debug", logging.DEBUG),
        ("info", logging.INFO),
        ("WARNING", logging.WARNING),
        ("error", logging.ERROR),
    ],
)
def test_configure_sets_the_level(project_logger: logging.Logger, level: str, expected: int) -> None:
    configure(level)

    assert project_logger.level == expected


def test_debug_is_suppressed_at_info_and_shown_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    log = get_logger(__name__)
    configure("info")
    log.debug("hidden")
    log.info("shown")
    configure("debug")  # a warm container picking up a new level
    log.debug("now shown")

    assert [entry["message"] for entry in json_lines(capsys)] == ["shown", "now shown"]


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown level"):
        configure("verbose")


def test_project_records_do_not_reach_the_root_logger(project_logger: logging.Logger) -> None:
    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    lambda_root_handler = Collect()
    logging.getLogger().addHandler(lambda_root_handler)
    try:
        configure()
        get_logger(__name__).warning("only once, as JSON")
    finally:
        logging.getLogger().removeHandler(lambda_root_handler)

    assert project_logger.propagate is False
    assert lambda_root_handler.records == []  # Lambda's own root handler would print it a second time


def test_logs_follow_stderr_redirections(monkeypatch: pytest.MonkeyPatch) -> None:
    configure()
    redirected = io.StringIO()
    monkeypatch.setattr(sys, "stderr", redirected)

    get_logger(__name__).info("after the redirection")

    assert json.loads(redirected.getvalue())["message"] == "after the redirection"


@pytest.mark.parametrize(
    ("name", "full_name"),
    [
        ("apps.athena_refresh.main", "streamalert.apps.athena_refresh.main"),
        ("streamalert.sqs", "streamalert.sqs"),
        ("streamalert", "streamalert"),
    ],
)
def test_loggers_live_under_the_project_root(name: str, full_name: str) -> None:
    assert get_logger(name).name == full_name


def test_names_that_only_start_like_the_root_are_still_placed_under_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure()

    get_logger("streamalert_rules.cloudtrail").warning("rule fired")

    assert [entry["message"] for entry in json_lines(capsys)] == ["rule fired"]


def test_empty_context_is_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    configure()

    get_logger(__name__).info("no context", extra=context())

    assert "context" not in json_lines(capsys)[0]
