"""Log records out of a byte stream: gzip or plain, JSON lines or one JSON document, read within limits.

Understood layouts, each plain or gzip (detected by its magic bytes, not by a file name):
- JSON lines: one JSON object a line;
- a JSON object holding a ``Records`` array (as CloudTrail writes it, on one line or pretty-printed):
  each element is one record;
- one JSON object: one record.
Lines are read one at a time, so that memory follows the longest line, not the whole stream. Two limits
keep a huge or hostile object from exhausting the function: no JSON value (a line, or a pretty-printed
document) over ``max_document_bytes`` is parsed, and no more than ``max_bytes`` are read in all
(decompressed bytes, so that a gzip bomb stops too).
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
DEFAULT_MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
RECORDS_KEY = "Records"

# What reading a broken stream raises: a truncated or corrupt gzip, a failing file
READ_ERRORS = (OSError, EOFError, zlib.error)
_BUFFER_BYTES = 64 * 1024
# What json.loads raises for text that is not JSON, or JSON nested deeper than Python can follow
_NOT_JSON = (ValueError, RecursionError)
_JSON_TYPES = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


class ByteSource(Protocol):
    """What records are read from: a file, ``io.BytesIO``, a botocore ``StreamingBody``."""

    def read(self, size: int, /) -> bytes: ...


class LineReader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class JsonRecord:
    """A record and where it was in its stream: ``"3"`` is line 3, ``"1.5"`` the 6th of line 1's Records."""

    position: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JsonProblem:
    """Something in the stream that is not a record: bad JSON, a value that is not an object, a limit."""

    position: str
    problem: str


@dataclass(frozen=True)
class Limits:
    """``max_document_bytes`` bounds memory (a JSON value takes several times its size once parsed);
    ``max_bytes`` bounds the time one stream takes."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES

    @classmethod
    def for_memory(cls, memory_mb: int) -> Limits:
        """Documents of at most an eighth of the function's memory (at least 1 MiB)."""
        return cls(max_document_bytes=max(1, memory_mb // 8) * 1024 * 1024)


def decompressed(stream: ByteSource) -> LineReader:
    """The stream itself, or a gzip reader over it when it starts with gzip's magic bytes."""
    buffered = (
        stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(_Raw(stream), _BUFFER_BYTES)
    )
    if buffered.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb")
    return buffered


def read_records(stream: ByteSource, limits: Limits | None = None) -> Iterator[JsonRecord | JsonProblem]:
    """Every record of a plain or gzip stream, with a problem for each part that is not one.

    Raises one of ``READ_ERRORS`` when the stream itself cannot be read or decompressed.
    """
    limits = limits or Limits()
    lines = _Lines(decompressed(stream), limits)
    first = True
    for number, text in lines:
        if text is None:
            yield JsonProblem(
                str(number),
                f"line larger than {limits.max_document_bytes} bytes, "
                "the most read as one JSON value: skipped",
            )
        else:
            try:
                document = json.loads(text)
            except _NOT_JSON as err:
                # Perhaps one pretty-printed document rather than JSON lines, if it is small enough
                rest = lines.rest_within(limits.max_document_bytes - len(text)) if first else None
                if rest is not None:
                    yield from _document_or_lines(number, text + rest)
                    return
                yield JsonProblem(str(number), f"not JSON: {err}")
            else:
                yield from _expand(str(number), document)
        first = False
    if lines.exhausted:
        yield JsonProblem(
            str(lines.line_number + 1),
            f"the stream is larger than {limits.max_bytes} bytes: the rest is not read",
        )


def _document_or_lines(number: int, content: bytes) -> Iterator[JsonRecord | JsonProblem]:
    """The whole stream, starting at line ``number``: one JSON document if it is one, else JSON lines."""
    try:
        document = json.loads(content)
    except _NOT_JSON:
        for offset, line in enumerate(content.split(b"\n")):
            if line.strip():
                yield from _parse_line(number + offset, line)
    else:
        yield from _expand(str(number), document)


def _parse_line(number: int, text: bytes) -> Iterator[JsonRecord | JsonProblem]:
    try:
        document = json.loads(text)
    except _NOT_JSON as err:
        yield JsonProblem(str(number), f"not JSON: {err}")
        return
    yield from _expand(str(number), document)


def _expand(position: str, document: Any) -> Iterator[JsonRecord | JsonProblem]:
    if isinstance(document, dict) and isinstance(document.get(RECORDS_KEY), list):
        for index, record in enumerate(document[RECORDS_KEY]):
            yield _record(f"{position}.{index}", record)
    else:
        yield _record(position, document)


def _record(position: str, value: Any) -> JsonRecord | JsonProblem:
    if isinstance(value, dict):
        return JsonRecord(position, value)
    return JsonProblem(position, f"a JSON {_JSON_TYPES.get(type(value), 'value')}, not an object")


class _Lines:
    """The non-blank lines of a stream, numbered from 1, within the limits: a line over the document limit
    comes as ``(number, None)`` and is skipped; the lines stop once ``max_bytes`` are read (``exhausted``)."""

    def __init__(self, stream: LineReader, limits: Limits) -> None:
        self._stream = stream
        self._head: io.BytesIO | None = None  # bytes read ahead by rest_within, served first
        self._max_line = limits.max_document_bytes
        self._left = limits.max_bytes
        self.line_number = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[tuple[int, bytes | None]]:
        # One byte over the limit: reading it means the line goes on past the limit
        while line := self._readline(self._max_line + 1):
            if self.exhausted and self._head is None and not line.endswith(b"\n"):
                return  # the line that the total limit cut
            self.line_number += 1
            if len(line) > self._max_line and not line.endswith(b"\n"):
                self._skip_rest_of_line()
                yield self.line_number, None
            elif line.strip():
                yield self.line_number, line

    def rest_within(self, max_bytes: int) -> bytes | None:
        """All that is left, when it is at most ``max_bytes``; otherwise None, and the lines go on."""
        data = self._take(self._stream.read(max(0, max_bytes) + 1))
        if len(data) <= max_bytes and not self.exhausted:
            return data
        self._head = io.BytesIO(data)
        return None

    def _readline(self, size: int) -> bytes:
        head = self._head.readline(size) if self._head is not None else b""
        if head.endswith(b"\n") or len(head) == size:
            return head
        self._head = None
        if self.exhausted:
            return head
        return head + self._take(self._stream.readline(size - len(head)))

    def _take(self, data: bytes) -> bytes:
        """Count bytes read from the stream against the total limit, cutting them there."""
        if len(data) > self._left:
            data = data[: self._left]
            self.exhausted = True
        self._left -= len(data)
        return data

    def _skip_rest_of_line(self) -> None:
        while chunk := self._readline(_BUFFER_BYTES):
            if chunk.endswith(b"\n"):
                return


class _Raw(io.RawIOBase):
    """Any object with ``read(n)`` (a botocore StreamingBody) as a raw stream that io can buffer."""

    def __init__(self, source: ByteSource) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
