"""Turn marshmallow's nested error dicts into sorted ``<file>: <path>: <message>`` lines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow.exceptions import SCHEMA

PathPart = str | int
ErrorPath = tuple[PathPart, ...]

# Keys that read well as a dotted path; any other key is written as ["..."]
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Errors stored at the root of the combined schema, outside either file
_NO_FILE = "config"
# How every config schema's unknown-key error begins (``fields.StrictSchema``)
UNKNOWN_KEY = "unknown key; allowed keys: "


@dataclass(frozen=True)
class ErrorLine:
    """One validation problem: the config file, the path inside it, and what is wrong."""

    file: str
    path: ErrorPath
    message: str

    @property
    def sort_key(self) -> tuple[str, tuple[str, ...], str]:
        return (self.file, tuple(str(part) for part in self.path), self.message)

    def __str__(self) -> str:
        if not self.path:
            return f"{self.file}: {self.message}"
        return f"{self.file}: {format_path(self.path)}: {self.message}"


def format_path(path: ErrorPath) -> str:
    """Write a path dotted, with keys that hold dots or other characters in ``["..."]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def flatten_errors(messages: Mapping[str, Any]) -> list[ErrorLine]:
    """Flatten a ``ConfigSchema`` error's messages (top-level keys are file names) into sorted lines."""
    lines: list[ErrorLine] = []
    for key, value in messages.items():
        if key == SCHEMA:
            lines.extend(ErrorLine(_NO_FILE, (), message) for message in _leaf_messages(value))
            continue
        lines.extend(ErrorLine(str(key), path, message) for path, message in _walk(value, ()))
    return sort_errors(lines)


def sort_errors(lines: list[ErrorLine]) -> list[ErrorLine]:
    """Sort by file, then path, then message, dropping exact repeats."""
    return sorted(set(lines), key=lambda line: line.sort_key)


def add_error(tree: dict[PathPart, Any], path: ErrorPath, message: str) -> None:
    """Add ``message`` at ``path`` to a nested error dict of marshmallow's shape."""
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node.setdefault(path[-1], []).append(message)


def _walk(value: Any, path: ErrorPath) -> Iterator[tuple[ErrorPath, str]]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key == SCHEMA:
                yield from _walk_schema_errors(child, path)
            else:
                yield from _walk(child, (*path, key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item, path)
    else:
        yield path, str(value)


def _walk_schema_errors(value: Any, path: ErrorPath) -> Iterator[tuple[ErrorPath, str]]:
    """marshmallow files the errors of an object itself under ``_schema`` (always a list), and those of
    a user's key named ``_schema`` too: a mapping there is the key's errors, and in a list the unknown-key
    message tells the key's apart. Either way the key is named."""
    if isinstance(value, Mapping):
        yield from _walk(value, (*path, SCHEMA))
        return
    for sub_path, message in _walk(value, ()):
        if not sub_path and message.startswith(UNKNOWN_KEY):
            yield (*path, SCHEMA), message
        else:
            yield (*path, *sub_path), message


def _leaf_messages(value: Any) -> Iterator[str]:
    for _path, message in _walk(value, ()):
        yield message
