"""Records out of byte streams: JSON lines, Records documents, gzip by magic bytes, the size cap."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pytest

from streamalert.json_records import READ_ERRORS, JsonProblem, JsonRecord, Limits, read_records


def read(
    content: bytes, max_bytes: int = 1_000_000, max_document_bytes: int = 100_000
) -> list[JsonRecord | JsonProblem]:
    return list(read_records(io.BytesIO(content), Limits(max_bytes, max_document_bytes)))


def records(content: bytes, **kwargs: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(item.position, item.record) for item in read(content, **kwargs) if isinstance(item, JsonRecord)]


CLOUDTRAIL = json.dumps({"Records": [{"eventName": "A"}, {"eventName": "B"}]}).encode()


@pytest.mark.parametrize("compress", [False, True])
def test_a_cloudtrail_file_on_one_line(compress: bool) -> None:
    content = gzip.compress(CLOUDTRAIL) if compress else CLOUDTRAIL

    assert records(content) == [("1.0", {"eventName": "A"}), ("1.1", {"eventName": "B"})]


def test_a_pretty_printed_document() -> None:
    content = json.dumps({"Records": [{"eventName": "A"}]}, indent=2).encode()

    assert records(content) == [("1.0", {"eventName": "A"})]


def test_json_lines_with_blank_lines_and_crlf() -> None:
    content = b'{"a": 1}\r\n\n{"a": 2}\n   \n{"a": 3}'

    assert records(content) == [("1", {"a": 1}), ("3", {"a": 2}), ("5", {"a": 3})]


def test_bad_lines_are_problems_and_the_rest_still_read() -> None:
    items = read(b'not json\n{"a": 1}\n[1, 2]\n"text"\n{"Records": [3]}\n')

    assert [(item.position, type(item).__name__) for item in items] == [
        ("1", "JsonProblem"),
        ("2", "JsonRecord"),
        ("3", "JsonProblem"),
        ("4", "JsonProblem"),
        ("5.0", "JsonProblem"),
    ]
    problems = [item.problem for item in items if isinstance(item, JsonProblem)]
    assert problems[1:] == [
        "a JSON array, not an object",
        "a JSON string, not an object",
        "a JSON number, not an object",
    ]


def test_the_cap_stops_reading_and_says_so() -> None:
    line = b'{"a": 1}\n'

    items = read(gzip.compress(line * 1000), max_bytes=len(line) * 3)

    assert [item.position for item in items if isinstance(item, JsonRecord)] == ["1", "2", "3"]
    assert isinstance(items[-1], JsonProblem)
    assert "larger than 27 bytes" in items[-1].problem


def test_the_cap_at_a_line_boundary_still_says_so() -> None:
    items = read(b'{"a": 1}\n{"a": 2}\n', max_bytes=9)

    assert [type(item).__name__ for item in items] == ["JsonRecord", "JsonProblem"]


def test_a_stream_exactly_at_the_cap_is_whole() -> None:
    assert [type(item).__name__ for item in read(b'{"a": 1}\n', max_bytes=9)] == ["JsonRecord"]


def test_a_line_over_the_document_limit_is_skipped_and_the_rest_read() -> None:
    long_line = b'{"a": "' + b"x" * 500 + b'"}\n'

    items = read(b'{"a": 1}\n' + long_line + b'{"a": 3}\n', max_document_bytes=100)

    assert [(item.position, type(item).__name__) for item in items] == [
        ("1", "JsonRecord"),
        ("2", "JsonProblem"),
        ("3", "JsonRecord"),
    ]
    assert "line larger than 100 bytes" in items[1].problem  # type: ignore[union-attr]


def test_a_first_line_over_the_document_limit() -> None:
    items = read(b'{"a": "' + b"x" * 500 + b'"}\n{"a": 2}', max_document_bytes=100)

    assert [(item.position, type(item).__name__) for item in items] == [
        ("1", "JsonProblem"),
        ("2", "JsonRecord"),
    ]


def test_a_pretty_document_over_the_document_limit_is_read_as_lines() -> None:
    small = json.dumps({"Records": [{"a": 1}]}, indent=2).encode()
    large = json.dumps({"Records": [{"a": i} for i in range(100)]}, indent=2).encode()

    assert [type(item).__name__ for item in read(small, max_document_bytes=len(small))] == ["JsonRecord"]
    items = read(large, max_document_bytes=200)
    assert items
    assert all(isinstance(item, JsonProblem) for item in items)


def test_json_lines_with_a_bad_first_line_over_the_document_limit() -> None:
    content = b"not json\n" + b'{"a": 1}\n' * 100

    items = read(content, max_document_bytes=50)

    assert [type(item).__name__ for item in items] == ["JsonProblem"] + ["JsonRecord"] * 100
    assert [item.position for item in items][-1] == "101"


def test_json_lines_with_a_bad_first_line_are_still_read() -> None:
    items = read(b'not json\n{"a": 1}\n{"a": 2}\n')

    assert [(item.position, type(item).__name__) for item in items] == [
        ("1", "JsonProblem"),
        ("2", "JsonRecord"),
        ("3", "JsonRecord"),
    ]


def test_limits_follow_the_function_memory() -> None:
    assert Limits.for_memory(256).max_document_bytes == 32 * 1024 * 1024
    assert Limits.for_memory(128).max_document_bytes == 16 * 1024 * 1024


def test_an_empty_stream() -> None:
    assert read(b"") == []
    assert read(gzip.compress(b"")) == []


def test_a_truncated_gzip_raises_a_read_error() -> None:
    with pytest.raises(READ_ERRORS):
        read(gzip.compress(b'{"a": 1}\n' * 1000)[:60])


def test_multi_member_gzip_is_read_whole() -> None:
    content = gzip.compress(b'{"a": 1}\n') + gzip.compress(b'{"a": 2}\n')

    assert records(content) == [("1", {"a": 1}), ("2", {"a": 2})]


def test_json_nested_too_deep_is_a_problem_not_a_crash() -> None:
    items = read(b"[" * 100_000 + b"\n" + b'{"a": 1}\n')

    assert [type(item).__name__ for item in items] == ["JsonProblem", "JsonRecord"]
