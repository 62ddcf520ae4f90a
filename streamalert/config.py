"""Load and validate ``global.json``, ``lambda.json`` and, when present, ``logs.json`` from an explicit
directory (never the cwd)."""

from __future__ import annotations

import codecs
import json
import os
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from config_schemas.config import ConfigSchema
from config_schemas.errors import ErrorLine, ErrorPath, flatten_errors, sort_errors
from config_schemas.files import CONFIG_FILES, GLOBAL_FILE, LAMBDA_FILE, OPTIONAL_CONFIG_FILES
from config_schemas.global_config import valid_prefix
from config_schemas.models import Config
from config_schemas.placeholders import find_placeholders, substitute_prefix
from streamalert.constants import ENV_CONFIG_DIR
from streamalert.exceptions import StreamAlertError


class ConfigError(StreamAlertError):
    """The configuration cannot be used; ``str()`` is one line per problem."""


class ConfigFileError(ConfigError):
    """A config directory or file is missing or unreadable, or a file is not JSON. ``errors`` holds what is
    wrong in the files that could be read; ``problems`` is every line, the unreadable files' and those
    errors, by file."""

    def __init__(self, unreadable: Sequence[str], errors: Sequence[ErrorLine] = ()) -> None:
        self.unreadable = tuple(unreadable)
        self.errors = tuple(errors)
        lines = [*self.unreadable, *(str(error) for error in self.errors)]
        self.problems = tuple(sorted(lines, key=lambda line: line.partition(":")[0]))
        super().__init__("\n".join(self.problems))


class ConfigValidationError(ConfigError):
    """The files are JSON but break the schema; ``errors`` holds every problem, sorted by file and path."""

    def __init__(self, errors: Sequence[ErrorLine]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(self.lines))

    @property
    def lines(self) -> list[str]:
        """Each error as ``<file>: <path>: <message>``."""
        return [str(error) for error in self.errors]


class MissingBlockError(ConfigError):
    """``lambda.json`` has no block for the function asked for (its blocks are optional, a function's own
    code needs its block); ``block`` names it."""

    def __init__(self, block: str) -> None:
        self.block = block
        super().__init__(f"{LAMBDA_FILE} has no {block} block")


class _JSONObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys it held more than once (JSON keeps only the last)."""

    duplicate_keys: tuple[str, ...] = ()


def config_dir_from_env(default: Path) -> Path:
    """The directory named by the ``STREAMALERT_CONFIG_DIR`` environment variable, else ``default``."""
    value = os.environ.get(ENV_CONFIG_DIR, "")
    return Path(value) if value else default


def load_config(config_dir: Path) -> Config:
    """Read, validate and return the config in ``config_dir``.

    Raises ConfigFileError for unreadable input and ConfigValidationError listing every problem at once.
    """
    if not config_dir.is_dir():
        reason = "is not a directory" if config_dir.exists() else "not found"
        raise ConfigFileError([f"config directory {reason}: {config_dir}"])
    documents: dict[str, Any] = {}
    problems: list[str] = []
    unreadable: list[str] = []
    present_optional = [name for name in OPTIONAL_CONFIG_FILES if (config_dir / name).exists()]
    for name in (*CONFIG_FILES, *present_optional):
        try:
            documents[name] = _read_json(config_dir / name)
        except ConfigFileError as err:
            problems.extend(err.problems)
            unreadable.append(name)
    if problems:
        _config, errors = _check(documents, unreadable)
        raise ConfigFileError(problems, errors)
    return validate_documents(documents)


def validate_documents(documents: Mapping[str, Any]) -> Config:
    """Validate the parsed files of ``conf/``, by name: ``<prefix>`` is replaced in ``lambda.json`` first,
    by ``account.prefix`` when it is valid (any other placeholder, or one in ``global.json``, is an error),
    and every error is told as the user wrote the files.

    Raises ConfigValidationError listing every problem at once.
    """
    config, errors = _check(documents, ())
    if errors or config is None:
        raise ConfigValidationError(errors)
    return config


def _check(
    documents: Mapping[str, Any], unreadable: Collection[str]
) -> tuple[Config | None, list[ErrorLine]]:
    """The config, and every error, sorted. With files ``unreadable`` there is no config: the others are
    checked, without the rules that need an unreadable one (``<prefix>`` is not replaced without
    ``global.json``, and names holding it are not checked)."""
    errors = [
        ErrorLine(name, path, "key appears more than once in this object (JSON keeps only the last)")
        for name, document in documents.items()
        for path in _duplicate_key_paths(document, ())
    ]
    prefix_problem = (
        None if GLOBAL_FILE in unreadable else f"account.prefix of {GLOBAL_FILE} is missing or not valid"
    )
    substitution = substitute_prefix(
        documents.get(LAMBDA_FILE), valid_prefix(documents.get(GLOBAL_FILE)), prefix_problem=prefix_problem
    )
    kept = find_placeholders(documents.get(GLOBAL_FILE))
    errors.extend([*substitution.errors(LAMBDA_FILE), *kept.errors(GLOBAL_FILE)])
    substituted = {**documents}
    if LAMBDA_FILE in documents:
        substituted[LAMBDA_FILE] = substitution.document
    config: Config | None = None
    try:
        if unreadable:
            messages = ConfigSchema(unreadable=unreadable).validate(substituted)
            if messages:
                raise ValidationError(messages)
        else:
            config = ConfigSchema().load(substituted)
    except ValidationError as err:
        lines = substitution.explain(LAMBDA_FILE, flatten_errors(err.messages_dict))
        errors.extend(kept.explain(GLOBAL_FILE, lines))
    return config, sort_errors(errors)


def _read_json(path: Path) -> Any:
    """The JSON document of a UTF-8 file; a byte-order mark (which some Windows editors write) is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigFileError([f"{path.name}: file not found: {path}"]) from err
    except OSError as err:
        raise ConfigFileError([f"{path.name}: cannot read {path}: {err.strerror or err}"]) from err
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigFileError([f"{path.name}: not UTF-8 text at byte {bom + err.start}: {path}"]) from err
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as err:
        raise ConfigFileError(
            [f"{path.name}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"]
        ) from err
    except (ValueError, RecursionError) as err:  # numbers too long, nesting too deep for Python
        raise ConfigFileError([f"{path.name}: cannot parse JSON: {err}"]) from err


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = _JSONObject(pairs)
    if len(document) < len(pairs):
        counts = Counter(key for key, _value in pairs)
        document.duplicate_keys = tuple(key for key, count in counts.items() if count > 1)
    return document


def _duplicate_key_paths(value: Any, path: ErrorPath) -> Iterator[ErrorPath]:
    if isinstance(value, _JSONObject):
        for key in value.duplicate_keys:
            yield (*path, key)
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _duplicate_key_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _duplicate_key_paths(child, (*path, index))
