"""Strict marshmallow fields (no type coercion), the base schema, and validators of the names a config holds.

Every refusal says what was expected and what was found: ``must be an integer from 128 to 10240, got "256"
(a string)``. Names are checked as they will be deployed: ``<prefix>`` is replaced before (``placeholders``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from marshmallow import RAISE, Schema, ValidationError, fields

from config_schemas.errors import UNKNOWN_KEY
from config_schemas.models import RefreshType, Source, TableRoute

_T = TypeVar("_T")

_BUCKET_RULE = (
    "a bucket name has 3 to 63 lowercase letters, digits, dots and hyphens, "
    "and starts and ends with a letter or digit"
)
_BUCKET_CHARS = re.compile(r"[a-z0-9.-]*")
_IP_ADDRESS = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,254}")
_IDENTIFIER_RULE = (
    "lowercase letters, digits and underscores, starting with a letter or underscore, at most 255"
)
_SOURCE_RULE = (
    "a source is a bucket name or bucket/prefix, the prefix being path segments that are not empty "
    "and hold no control characters, quotes or backslashes"
)
_STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_STREAM_RULE = "a Kinesis stream name has 1 to 128 letters, digits, underscores, hyphens and dots"
_DESCRIBE_LIMIT = 60


def describe(value: Any) -> str:
    """Show a value as JSON followed by its JSON type, for the ``got ...`` part of a message."""
    if value is None:
        return "null"
    text = json.dumps(value, ensure_ascii=False, default=repr)
    if len(text) > _DESCRIBE_LIMIT:
        text = text[: _DESCRIBE_LIMIT - 3] + "..."
    return f"{text} ({_json_type(value)})"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid S3 bucket name (AWS's general-purpose bucket rules), or None."""
    reason = _bucket_reason(name)
    if reason is None:
        return None
    shown = json.dumps(name, ensure_ascii=False)
    return f"Not a valid S3 bucket name: {shown}: {reason} ({_BUCKET_RULE})"


def _bucket_reason(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} character{'' if len(name) == 1 else 's'}"
    if not _BUCKET_CHARS.fullmatch(name):
        if any(char.isupper() for char in name):
            return "uppercase letters are not allowed"
        bad = sorted({char for char in name if not _BUCKET_CHARS.fullmatch(char)})
        return f"{' '.join(json.dumps(char, ensure_ascii=False) for char in bad)} not allowed"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must start and end with a letter or digit"
    if ".." in name:
        return "two dots in a row are not allowed"
    if _IP_ADDRESS.fullmatch(name):
        return "it must not be shaped like an IP address"
    for reserved in _BUCKET_RESERVED_PREFIXES:
        if name.startswith(reserved):
            return f'the prefix "{reserved}" is reserved by AWS'
    for reserved in _BUCKET_RESERVED_SUFFIXES:
        if name.endswith(reserved):
            return f'the suffix "{reserved}" is reserved by AWS'
    return None


def identifier_problem(name: Any, what: str) -> str | None:
    """Why ``name`` is not a valid Athena/Glue ``what`` (table or database) name, or None."""
    if not isinstance(name, str):
        return f"a {what} name must be a string of {_IDENTIFIER_RULE} characters, got {describe(name)}"
    if _IDENTIFIER.fullmatch(name):
        return None
    return (
        f"Not a valid {what} name: {json.dumps(name, ensure_ascii=False)} "
        f"(Athena allows {_IDENTIFIER_RULE} characters)"
    )


def stream_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid Kinesis stream name, or None."""
    if _STREAM_NAME.fullmatch(name):
        return None
    return f"Not a valid Kinesis stream name: {json.dumps(name, ensure_ascii=False)} ({_STREAM_RULE})"


def parse_source(text: object) -> Source:
    """Split ``bucket`` or ``bucket/prefix`` (one trailing slash tolerated) into a ``Source``.

    Raises ValueError saying what is wrong.
    """
    if not isinstance(text, str):
        raise ValueError(f"a source must be a string, got {describe(text)}")
    body = text.removesuffix("/")
    bucket, slash, prefix = body.partition("/")
    problems = []
    bucket_problem = bucket_name_problem(bucket)
    if bucket_problem:
        problems.append(bucket_problem)
    if slash:
        reasons = sorted({reason for segment in prefix.split("/") for reason in _segment_reasons(segment)})
        if reasons:
            shown = json.dumps(text, ensure_ascii=False)
            problems.append(f"Not a valid source: {shown} has {' and '.join(reasons)} ({_SOURCE_RULE})")
    if problems:
        raise ValueError("; ".join(problems))
    return Source(bucket, prefix)


def _segment_reasons(segment: str) -> set[str]:
    reasons = set()
    if not segment:
        reasons.add("an empty path segment")
    for char in segment:
        if unicodedata.category(char) == "Cc":
            reasons.add("a control character")
        elif char in "\"'":
            reasons.add("a quote")
        elif char == "\\":
            reasons.add("a backslash")
    return reasons


class StrictSchema(Schema):
    """Base of every config schema: an unknown key is an error that lists the keys allowed."""

    class Meta:
        unknown = RAISE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        allowed = ", ".join(field.data_key or name for name, field in self.load_fields.items())
        self.error_messages = {**self.error_messages, "unknown": f"{UNKNOWN_KEY}{allowed}"}


class StrictField(fields.Field[_T]):
    """A field that takes only the JSON type it names, and says what it expected when it refuses a value."""

    def __init__(self, expectation: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expectation = expectation
        # marshmallow formats these messages with str.format: braces of the expectation are text
        literal = expectation.replace("{", "{{").replace("}", "}}")
        self.error_messages["required"] = f"is required and {literal}"
        self.error_messages["null"] = f"{literal}, got null"

    def refuse(self, value: Any) -> ValidationError:
        """The error for a value of the wrong type or shape."""
        return ValidationError(f"{self.expectation}, got {describe(value)}")


class StrictInteger(StrictField[int]):
    """An integer within bounds: no strings, no booleans, no decimal numbers."""

    def __init__(self, minimum: int, maximum: int, **kwargs: Any) -> None:
        super().__init__(f"must be an integer from {minimum} to {maximum}", **kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise self.refuse(value)
        return value


class StrictBoolean(StrictField[bool]):
    """``true`` or ``false``: no ``1``, no ``"on"``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("must be true or false", **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if not isinstance(value, bool):
            raise self.refuse(value)
        return value


class StrictString(StrictField[str]):
    """A string matching ``pattern`` when given, then passing ``check`` (which returns a problem or None)."""

    def __init__(
        self,
        expectation: str,
        *,
        pattern: str | None = None,
        check: Callable[[str], str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(expectation, **kwargs)
        self.pattern = re.compile(pattern) if pattern else None
        self.check = check

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        if not isinstance(value, str) or (self.pattern and not self.pattern.fullmatch(value)):
            raise self.refuse(value)
        problem = self.check(value) if self.check else None
        if problem:
            raise ValidationError(problem)
        return value


class StrictNested(fields.Nested):
    """A nested block that must be a JSON object (marshmallow's own message does not say what it got)."""

    def __init__(self, nested: type[Schema], **kwargs: Any) -> None:
        super().__init__(nested, **kwargs)
        self.error_messages["required"] = "is required and must be a JSON object"
        self.error_messages["null"] = "must be a JSON object, got null"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, partial: Any = None, **kwargs: Any
    ) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError(f"must be a JSON object, got {describe(value)}")
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


class SourceTableMap(StrictField[tuple[TableRoute, ...]]):
    """``{source: table}`` for one refresh type, loaded as routes."""

    def __init__(self, refresh_type: RefreshType, **kwargs: Any) -> None:
        super().__init__(
            "must be an object mapping sources (bucket or bucket/prefix) to table names", **kwargs
        )
        self.refresh_type = refresh_type

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[TableRoute, ...]:
        if not isinstance(value, Mapping):
            raise self.refuse(value)
        routes = []
        errors: dict[str, list[str]] = {}
        for key, table in value.items():
            problems = []
            try:
                source = parse_source(key)
            except ValueError as err:
                problems.append(str(err))
            table_problem = identifier_problem(table, "table")
            if table_problem:
                problems.append(table_problem)
            if problems:
                errors[key] = problems
            else:
                routes.append(TableRoute(source, table, self.refresh_type))
        if errors:
            raise ValidationError(errors)
        return tuple(routes)


class StrictList(StrictField[tuple[_T, ...]]):
    """A JSON array whose items ``parse`` turns into values, refusing one by raising ValueError; every
    refused item is reported at its index. With ``unique``, an item equal to an earlier one is refused."""

    def __init__(
        self, expectation: str, parse: Callable[[Any], _T], *, unique: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(expectation, **kwargs)
        self.parse = parse
        self.unique = unique

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[_T, ...]:
        if not isinstance(value, list):
            raise self.refuse(value)
        items: dict[int, _T] = {}
        errors: dict[int, list[str]] = {}
        for index, raw in enumerate(value):
            try:
                item = self.parse(raw)
            except ValueError as err:
                errors[index] = [str(err)]
                continue
            first = next((earlier for earlier, other in items.items() if other == item), None)
            if self.unique and first is not None:
                errors[index] = [f"{describe(raw)} is already listed at [{first}]; list it once"]
                continue
            items[index] = item
        if errors:
            raise ValidationError(errors)
        return tuple(items.values())
