"""``<prefix>`` in ``lambda.json``: replaced by ``account.prefix`` in the loaded document, in every string
(values, and keys such as ``refresh_type`` sources), before the schemas see it.

The schemas then check names as they will be deployed and never deal with the placeholder. What was
replaced is recorded, so that the errors are told in the user's terms: a path through a key that held
``<prefix>`` is shown as written, and a message quoting a replaced value says what was written. When the
prefix is unusable (missing or invalid), nothing is replaced: a name holding ``<prefix>`` is reported as
such instead of by the name rules, which would only trip over ``<`` and ``>``. So is any other
placeholder (``<account>``, ``<PREFIX>``), and any placeholder in ``global.json``, where none is replaced.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from config_schemas.errors import ErrorLine, ErrorPath, format_path
from config_schemas.fields import describe
from config_schemas.lambda_config import ATHENA_BLOCK
from streamalert.constants import DEFAULT_RESULTS_BUCKET, PREFIX_PLACEHOLDER

# Defaults of lambda.json that hold <prefix>: filled in before the replacement, like written values
PREFIX_DEFAULTS: dict[ErrorPath, str] = {(ATHENA_BLOCK, "results_bucket"): DEFAULT_RESULTS_BUCKET}
# What a user may write meaning a placeholder: <account>, <region>, <PREFIX>, <aws-region>
PLACEHOLDER = re.compile(r"<[A-Za-z_][A-Za-z0-9_-]*>")
# Characters that go on a key of a dotted path (``errors.format_path``)
_PATH_CHAR = r"A-Za-z0-9_\-"


@dataclass(frozen=True)
class Placed:
    """A string of the document that held a placeholder (or a default that does): where it is, as written,
    what was written, and what the schemas see (``<prefix>`` replaced when it could be)."""

    path: ErrorPath
    written: str
    value: str
    is_default: bool = False

    @property
    def replaced(self) -> bool:
        return self.value != self.written

    @property
    def unresolved(self) -> bool:
        """True while what the schemas see still holds a placeholder: their errors about it are moot."""
        return PLACEHOLDER.search(self.value) is not None

    def quoted(self, text: str) -> Iterator[tuple[str, str]]:
        """How a message may quote ``text`` (this string as seen, or as written) or, for a source, its
        bucket, each with the matching part of what was written."""
        yield json.dumps(text, ensure_ascii=False), json.dumps(self.written, ensure_ascii=False)
        yield describe(text), json.dumps(self.written, ensure_ascii=False)
        bucket, slash, _rest = text.partition("/")
        written_bucket = self.written.partition("/")[0]
        if slash and PLACEHOLDER.search(written_bucket):
            yield json.dumps(bucket, ensure_ascii=False), json.dumps(written_bucket, ensure_ascii=False)


@dataclass
class Substitution:
    """A document with ``<prefix>`` replaced (``lambda.json``) or kept (``global.json``, ``replaces``
    False), and the record that tells its errors as written."""

    prefix: str | None
    replaces: bool = True
    document: Any = None
    placed: list[Placed] = field(default_factory=list)
    # The path of each key that held <prefix>, as the schemas see it, and the key as written
    renamed: dict[ErrorPath, str] = field(default_factory=dict)
    # Where a default holding <prefix> was filled in
    defaults: set[ErrorPath] = field(default_factory=set)
    # Problems found while replacing, by path as written
    problems: list[tuple[ErrorPath, str]] = field(default_factory=list)

    def explain(self, file: str, lines: Iterable[ErrorLine]) -> list[ErrorLine]:
        """The schema's error lines of ``file`` (this document) told in the user's terms; the lines of other
        files as they are. Errors quoting a string that still holds a placeholder are dropped: the
        substitution's own problems report it."""
        explained = []
        for line in lines:
            if line.file != file:
                explained.append(line)
                continue
            path = self.written_path(line.path)
            message = self._written_paths_in(line.message)
            if any(self._is_unresolved(placed, message) for placed in self._at(path)):
                continue
            for placed in self._at(path):
                message = _annotate(placed, message)
            explained.append(ErrorLine(file, path, message))
        return explained

    def errors(self, file: str) -> list[ErrorLine]:
        """The problems found while replacing, as error lines of ``file``."""
        return [ErrorLine(file, path, message) for path, message in self.problems]

    def written_path(self, path: ErrorPath) -> ErrorPath:
        """``path`` (through the document the schemas saw) with every key as the user wrote it."""
        return tuple(self.renamed.get(path[: index + 1], part) for index, part in enumerate(path))

    def _at(self, path: ErrorPath) -> list[Placed]:
        return [placed for placed in self.placed if placed.path == path]

    def _is_unresolved(self, placed: Placed, message: str) -> bool:
        """True for an error about a string that still holds a placeholder."""
        return placed.unresolved and any(quote in message for quote, _written in placed.quoted(placed.value))

    def _written_paths_in(self, message: str) -> str:
        """The paths a message names (another source's, from any of its parents on) shown as written;
        the longest first, so that a path through two renamed keys is rewritten whole."""
        for resolved in sorted(self.renamed, key=len, reverse=True):
            written = self.written_path(resolved)
            for start in range(len(resolved) - 1):  # a path of one key is no path a message names
                shown = re.escape(format_path(resolved[start:]))
                pattern = re.compile(rf"(?<![{_PATH_CHAR}.\]]){shown}(?![{_PATH_CHAR}])")
                message = _replace_all(pattern, format_path(written[start:]), message)
        return message


def substitute_prefix(document: Any, prefix: str | None, *, prefix_problem: str | None) -> Substitution:
    """Replace ``<prefix>`` by ``prefix`` in every string of ``document`` (``lambda.json``), after filling
    in the defaults that hold it. ``prefix`` None leaves the placeholder: each name that holds it is then a
    problem saying ``prefix_problem`` (why the prefix is unusable), unless that is None (the file giving
    the prefix could not be read: its own error says so). Any other placeholder is a problem."""
    substitution = Substitution(prefix)
    filled = _with_defaults(document, substitution)
    substitution.document = _replace(filled, (), (), substitution)
    if prefix is None and prefix_problem is not None:
        substitution.problems.extend(
            (
                placed.path,
                f"{json.dumps(placed.written, ensure_ascii=False)} holds {PREFIX_PLACEHOLDER}, "
                f"which is not replaced: {prefix_problem}",
            )
            for placed in substitution.placed
            if PREFIX_PLACEHOLDER in placed.written and not placed.is_default
        )
    return substitution


def find_placeholders(document: Any) -> Substitution:
    """Every placeholder of a document in which none is replaced (``global.json``), each a problem."""
    substitution = Substitution(None, replaces=False)
    substitution.document = _replace(document, (), (), substitution)
    return substitution


def _with_defaults(document: Any, substitution: Substitution) -> Any:
    """The document with each default that holds ``<prefix>`` filled in where its block omits it."""
    for path, default in PREFIX_DEFAULTS.items():
        *parents, key = path
        node = document
        for part in parents:
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and key not in node:
            document = _set(document, path, default)
            substitution.defaults.add(path)
    return document


def _set(document: Mapping[str, Any], path: ErrorPath, value: Any) -> dict[str, Any]:
    """A copy of ``document`` with ``value`` at ``path`` (copying only the objects along it)."""
    head, *rest = path
    copied = dict(document)
    copied[str(head)] = _set(document[str(head)], tuple(rest), value) if rest else value
    return copied


def _replace(value: Any, written: ErrorPath, seen: ErrorPath, substitution: Substitution) -> Any:
    """``value`` with ``<prefix>`` replaced; ``written`` and ``seen`` are its path as written and as the
    schemas see it (they differ below a key that held the placeholder)."""
    if isinstance(value, str):
        return _replace_string(value, written, substitution, is_value=True)
    if isinstance(value, list):
        return [
            _replace(item, (*written, index), (*seen, index), substitution)
            for index, item in enumerate(value)
        ]
    if not isinstance(value, Mapping):
        return value
    replaced: dict[Any, Any] = {}
    first_written: dict[Any, Any] = {}
    for key, child in value.items():
        new_key = _replace_string(key, (*written, key), substitution) if isinstance(key, str) else key
        if new_key in replaced:
            substitution.problems.append(((*written, key), _same_key(first_written[new_key], new_key)))
            continue
        seen_path = (*seen, new_key)
        if new_key != key:
            substitution.renamed[seen_path] = key
        first_written[new_key] = key
        replaced[new_key] = _replace(child, (*written, key), seen_path, substitution)
    return replaced


def _replace_string(text: str, path: ErrorPath, substitution: Substitution, *, is_value: bool = False) -> str:
    """``text`` (a key, or a value when ``is_value``) with ``<prefix>`` replaced when it can be, recorded at
    ``path`` with the problems of its placeholders."""
    found = list(dict.fromkeys(PLACEHOLDER.findall(text)))
    if not found:
        return text
    value = text
    if substitution.replaces and substitution.prefix is not None:
        value = text.replace(PREFIX_PLACEHOLDER, substitution.prefix)
    is_default = is_value and path in substitution.defaults
    substitution.placed.append(Placed(path, text, value, is_default=is_default))
    shown = json.dumps(text, ensure_ascii=False)
    if not substitution.replaces and PREFIX_PLACEHOLDER in found:
        substitution.problems.append(
            (
                path,
                f"{shown} holds {PREFIX_PLACEHOLDER}, which is replaced only in lambda.json: "
                "write the name in full",
            )
        )
    unknown = [placeholder for placeholder in found if placeholder != PREFIX_PLACEHOLDER]
    if unknown:
        substitution.problems.append((path, _unknown_placeholders(unknown, shown, substitution.replaces)))
    return value


def _unknown_placeholders(unknown: list[str], shown: str, replaces: bool) -> str:
    names = ", ".join(unknown)
    where = "" if replaces else ", and only in lambda.json"
    plural = "s" if len(unknown) > 1 else ""
    message = f"unknown placeholder{plural} {names} in {shown}: only {PREFIX_PLACEHOLDER} is replaced{where}"
    if any(difflib.get_close_matches(name.lower(), [PREFIX_PLACEHOLDER], cutoff=0.75) for name in unknown):
        message += f" (did you mean {PREFIX_PLACEHOLDER}?)"
    return message


def _replace_all(pattern: re.Pattern[str], text: str, message: str) -> str:
    return pattern.sub(lambda _match: text, message)


def _same_key(other: str, resolved: str) -> str:
    shown = json.dumps(other, ensure_ascii=False)
    return (
        f"same key as {shown} once {PREFIX_PLACEHOLDER} is replaced (both are "
        f"{json.dumps(resolved, ensure_ascii=False)}): write each key once"
    )


def _annotate(placed: Placed, message: str) -> str:
    """Say after the first quote of a replaced value what was written (or that it is the default)."""
    if not placed.replaced or placed.unresolved:
        return message
    for quote, written in placed.quoted(placed.value):
        if quote in message:
            note = "the default" if placed.is_default else f"written {written}"
            return message.replace(quote, f"{quote} ({note})", 1)
    return message
