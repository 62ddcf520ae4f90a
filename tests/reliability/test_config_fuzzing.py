"""Config fuzzing: ``validate-config`` on generated ``conf/`` trees (random JSON, and valid configs mutated at
random paths, or whole files broken) never shows a traceback or an "unexpected error", exits 0, 1 or 2,
and prints every error on one line that names its file (and, for a field, the path to it)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_schemas.errors import format_path
from streamalert_cli.validate_config import main

REPO = Path(__file__).resolve().parents[2]
BASES = [
    {path.name: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}
    for directory in (REPO / "tests" / "fixtures" / "config" / "valid", REPO / "conf")
]
ATHENA = "athena_partition_refresh_config"
# Objects whose keys the schema names, and scalar fields in them (in the fixture config)
SCHEMA_OBJECTS = [
    ("global.json", ()),
    ("global.json", ("account",)),
    ("lambda.json", ()),
    ("lambda.json", (ATHENA,)),
]
SCALAR_FIELDS = [("global.json", ("account", key)) for key in ("aws_account_id", "prefix", "region")] + [
    ("lambda.json", (ATHENA, key))
    for key in (
        "enabled",
        "log_level",
        "memory",
        "timeout",
        "refresh_interval",
        "database_name",
        "results_bucket",
    )
]
# The guard's header before the errors of an invalid config; an unreadable file's problem, after its prefix
INVALID_HEADER = "validate-config: the config is invalid; nothing was changed:"
ERROR_LINE = re.compile(
    rf"{re.escape(INVALID_HEADER)}|(validate-config: )?((global|lambda|logs)\.json: \S.*|config: \S.*)"
    r"|validate-config: config directory .+"
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
odd_keys = st.one_of(
    st.sampled_from(("", " ", "a.b", "日本", "a\nb", '"', "[0]", "<prefix>")), st.text(max_size=8)
)
unknown_keys = st.one_of(
    st.sampled_from(("", " ", "a.b", "日本", "a\nb", '"', "[0]")), st.text(min_size=1).map("zz".__add__)
)
broken_files = st.sampled_from(
    (
        b"",
        b"{",
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",
        b"[]",
        b"null",
        b'{"account": 1, "account": {}}',
        b"NaN",
        b"{}" * 3,
    )
)


def container_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in a JSON document, the root first."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += container_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += container_paths(child, (*path, index))
    return found


def mutate(data: st.DataObject, document: Any) -> Any:
    """The document with one change at a random path: a new value, a key removed or added, a type changed."""
    path = data.draw(st.sampled_from(container_paths(document)))
    if not path:
        return data.draw(json_values) if data.draw(st.integers(0, 9)) == 0 else document
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    operation = data.draw(st.sampled_from(("replace", "delete", "add", "wrap", "stringify")))
    last = path[-1]
    if operation == "replace":
        parent[last] = data.draw(json_values)
    elif operation == "delete":
        del parent[last]
    elif operation == "add" and isinstance(parent[last], dict):
        parent[last][data.draw(odd_keys)] = data.draw(json_values)
    elif operation == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = json.dumps(parent[last])
    return document


def validate(files: Mapping[str, bytes | None]) -> tuple[int, str, str]:
    """Write the tree (None: a directory where the file should be) and run ``validate-config`` in process."""
    with tempfile.TemporaryDirectory() as directory:
        for name, content in files.items():
            if content is None:
                (Path(directory) / name).mkdir()
            else:
                (Path(directory) / name).write_bytes(content)
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["--config-dir", directory])
    return code, stdout.getvalue(), stderr.getvalue()


def check_output(code: int, stdout: str, stderr: str) -> list[str]:
    """The invariants of every run; the error lines."""
    assert code in (0, 1, 2)
    assert "Traceback" not in stdout + stderr
    assert "unexpected error" not in stderr, stderr
    lines = stderr.split("\n")[:-1] if stderr else []
    assert (code == 0) == (not lines), stderr
    assert all(ERROR_LINE.fullmatch(line) for line in lines), stderr
    return lines


fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(data=st.data())
def test_any_generated_tree_gets_an_exit_code_and_one_line_per_error(data: st.DataObject) -> None:
    files: dict[str, bytes | None] = {}
    for name, original in copy.deepcopy(data.draw(st.sampled_from(BASES))).items():
        document = original
        for _ in range(data.draw(st.integers(0, 3))):
            document = mutate(data, document)
        files[name] = json.dumps(document).encode()
        fate = data.draw(st.integers(0, 19))
        if fate == 0:
            del files[name]
        elif fate == 1:
            files[name] = None
        elif fate == 2:
            files[name] = data.draw(broken_files | st.binary(max_size=30) | st.text().map(str.encode))

    check_output(*validate(files))


def with_change(file: str, path: tuple[Any, ...], change: Any) -> dict[str, bytes | None]:
    documents = copy.deepcopy(BASES[0])
    target = documents[file]
    for part in path:
        target = target[part]
    change(target)
    return {name: json.dumps(document).encode() for name, document in documents.items()}


@fuzz
@given(where=st.sampled_from(SCHEMA_OBJECTS), key=unknown_keys)
def test_an_unknown_key_is_named_with_its_file_and_path(where: tuple[str, tuple[str, ...]], key: str) -> None:
    file, path = where
    code, stdout, stderr = validate(with_change(file, path, lambda target: target.__setitem__(key, 1)))

    lines = check_output(code, stdout, stderr)
    assert code == 1
    assert any(line.startswith(f"{file}: {format_path((*path, key))}: unknown key") for line in lines), lines


@fuzz
@given(where=st.sampled_from(SCALAR_FIELDS), value=json_values.filter(lambda v: isinstance(v, dict | list)))
def test_a_field_of_the_wrong_type_is_named_with_its_file_and_path(
    where: tuple[str, tuple[str, ...]], value: Any
) -> None:
    file, path = where
    code, stdout, stderr = validate(
        with_change(file, path[:-1], lambda target: target.__setitem__(path[-1], value))
    )

    lines = check_output(code, stdout, stderr)
    assert any(line.startswith(f"{file}: {format_path(path)}: ") for line in lines), lines


@pytest.mark.parametrize("where", SCHEMA_OBJECTS, ids=lambda where: format_path(where[1]) or where[0])
def test_a_key_named_underscore_schema_is_named_too(where: tuple[str, tuple[str, ...]]) -> None:
    file, path = where
    _code, _stdout, stderr = validate(
        with_change(file, path, lambda target: target.__setitem__("_schema", 1))
    )

    assert any(
        line.startswith(f"{file}: {format_path((*path, '_schema'))}: ") for line in stderr.splitlines()
    )


@pytest.mark.parametrize(
    "content", [b"[" * 100_000, b'{"a": ' + b"1" * 5000 + b"}"], ids=["deep", "5000 digits"]
)
def test_json_that_python_cannot_hold_is_an_unreadable_file(content: bytes) -> None:
    files = {name: json.dumps(document).encode() for name, document in BASES[0].items()}
    files["lambda.json"] = content

    code, _stdout, stderr = validate(files)

    assert code == 2
    assert stderr.startswith("validate-config: lambda.json: "), stderr


@pytest.mark.parametrize("type_value", [[], {"a": "string"}])
def test_a_log_type_key_of_an_unhashable_type_is_an_error_line(type_value: Any) -> None:
    documents = copy.deepcopy(BASES[1])
    documents["logs.json"] = {"cloudtrail:events": {"schema": {"eventName": type_value}}}

    code, stdout, stderr = validate({name: json.dumps(doc).encode() for name, doc in documents.items()})

    check_output(code, stdout, stderr)
    assert 'logs.json: ["cloudtrail:events"].schema.eventName: must be one of' in stderr


def test_a_null_logs_file_is_an_error_line() -> None:
    files = {name: json.dumps(doc).encode() for name, doc in BASES[1].items()}
    files["logs.json"] = b"null"

    code, stdout, stderr = validate(files)

    check_output(code, stdout, stderr)
    assert "logs.json: must be a JSON object" in stderr
