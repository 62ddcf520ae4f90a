"""The IAM actions that a function's shipped code calls, read from the code itself (never from a list).

A function's code is the project modules its handler imports, transitively (plus the packages it loads by
name: ``rules/`` for the rule processor). Of that code only what can run counts: module-level statements,
the handler, decorated and dunder functions, and, until nothing changes, every function or method whose
name the running code mentions. A name is all that is checked (not the class), so more may count as
reachable than really is, never less.

The services of the function are those it builds clients of: every ``client("<service>", ...)`` call in
that code (``aws.glue_client`` runs ``client("glue", ...)``, so calling it counts). A call
``<anything>.<method>(...)`` is an AWS call when ``method`` is the Python name of an operation of one of
those services, as botocore's own service models name them; the IAM action is the operation's, or the one
``_ACTIONS_OF_OPERATION`` says authorizes it. A name that two of the services have is settled by the client
types the module imports (``from mypy_boto3_glue import GlueClient``: Glue's ``get_database``, not
Athena's) when they name exactly one of them.

What the scan cannot tell is refused with ScanError rather than guessed: a client or resource whose service
is not a literal, a name still shared by two services, a boto3 resource, a helper method that makes calls
the models do not describe (S3's ``upload_file``...). What it cannot see at all is a method looked up by
a computed name (``getattr(client, name)``): the project's code calls no client that way.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.session
from botocore import xform_name
from botocore.client import BaseClient

from streamalert_cli.processors import PROCESSORS

PROJECT_PACKAGES = frozenset({"apps", "streamalert", "config_schemas", "rules"})
# The one client factory: ``client(service, settings)`` and the typed factories that call it with a literal
FACTORY_MODULE = "streamalert.aws"
GENERIC_FACTORY = "client"
RESOURCE_FACTORY = "resource"
STUBS_PREFIX = "mypy_boto3_"
ENTRY_FUNCTION = "handler"
# Operations whose IAM action has another name (the Service Authorization Reference of each service);
# every other one is authorized by ``<service>:<Operation>`` (a service whose IAM prefix is not its boto3
# name, like stepfunctions' ``states``, would need its operations here)
_ACTIONS_OF_OPERATION: dict[tuple[str, str], tuple[str, ...]] = {
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
}


_SERVICES = frozenset(botocore.session.get_session().get_available_services())


class ScanError(Exception):
    """A call whose service or IAM action the scan cannot tell."""


@dataclass(frozen=True, order=True)
class CallSite:
    module: str
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line}"


@dataclass
class CodeCalls:
    """The services a function builds clients of, and each IAM action its calls need, with where."""

    services: set[str] = field(default_factory=set)
    actions: dict[str, set[CallSite]] = field(default_factory=dict)


def shipped_sources(app: str, repo: Path) -> dict[str, str]:
    """Module name -> source of the project modules ``apps/<app>/main.py`` imports, transitively, and of
    the packages the function imports by name (its registry entry's ``extra_folders``)."""
    pending = [f"apps.{app}.main"]
    for extra in next((p.extra_folders for p in PROCESSORS if p.app == app), ()):
        folder = repo / extra
        pending += [_module_name(path.relative_to(repo)) for path in sorted(folder.rglob("*.py"))]
    sources: dict[str, str] = {}
    while pending:
        name = pending.pop()
        path = _module_path(name, repo)
        if name in sources or path is None:
            continue
        sources[name] = path.read_text()
        pending += _imported(name, ast.parse(sources[name]), is_package=path.name == "__init__.py")
    return sources


def called_actions(sources: Mapping[str, str]) -> CodeCalls:
    """The IAM actions of the AWS calls that the code of ``sources`` (one function's modules) can make.
    ScanError for a call the scan cannot attribute to one operation."""
    trees = {name: ast.parse(text) for name, text in sources.items()}
    calls = list(_reachable_calls(trees))
    typed = {name: _typed_services(tree) for name, tree in trees.items()}
    result = CodeCalls()
    for call, site, owner in calls:
        name = _called_name(call)
        if name == RESOURCE_FACTORY and _literal(call) in _SERVICES:
            raise ScanError(f"{site}: a boto3 resource: its calls are not scanned, use a client")
        if name == GENERIC_FACTORY and (site.module, owner) != (FACTORY_MODULE, GENERIC_FACTORY):
            service = _literal(call)
            if service is None:
                raise ScanError(f"{site}: a client whose service is not a literal")
            result.services.add(service)
    operations = _operations(frozenset(result.services))
    helpers = _helper_methods(frozenset(result.services))
    for call, site, _ in calls:
        method = _method_name(call)
        if method is None:
            continue
        if method in helpers:
            raise ScanError(f"{site}: .{method}() of {helpers[method]} calls operations the scan cannot see")
        for service, operation in _called_operations(call, method, operations, typed[site.module], site):
            for action in _ACTIONS_OF_OPERATION.get((service, operation), (f"{service}:{operation}",)):
                result.actions.setdefault(action, set()).add(site)
    return result


# --- Which modules: imports within the project ---


def _module_name(relative: Path) -> str:
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_path(name: str, repo: Path) -> Path | None:
    parts = name.split(".")
    if parts[0] not in PROJECT_PACKAGES:
        return None
    base = repo.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(name: str, tree: ast.Module, *, is_package: bool) -> Iterator[str]:
    """Every project module an import of the module names, with the packages above it (they run too)."""
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            package = name if is_package else name.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = ".".join(part for part in (package if node.level else "", node.module or "") if part)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            parts = target.split(".")
            yield from (".".join(parts[:end]) for end in range(1, len(parts) + 1))


# --- Which code runs: module-level statements, and the functions whose names running code mentions ---


@dataclass
class _Function:
    module: str
    name: str
    body: list[ast.stmt]
    always: bool  # decorated (a decorator may register it) or a dunder (Python calls it)


# A node that runs, its module and the module-level function or method it is in (None: import time)
_Running = tuple[ast.AST, str, str | None]


def _reachable_calls(trees: Mapping[str, ast.Module]) -> Iterator[tuple[ast.Call, CallSite, str | None]]:
    """Every call in code that can run, with where it is and the function it is in."""
    functions: list[_Function] = []
    running: list[_Running] = []
    for module, tree in trees.items():
        _split(tree.body, module, running, functions)
    mentioned = {ENTRY_FUNCTION}
    done: set[int] = set()
    while running:
        for node, module, owner in running:
            for child in ast.walk(node):
                if isinstance(child, ast.Name):
                    mentioned.add(child.id)
                elif isinstance(child, ast.Attribute):
                    mentioned.add(child.attr)
                elif isinstance(child, ast.Call):
                    yield child, CallSite(module, child.lineno), owner
        running = []
        for index, function in enumerate(functions):
            if index not in done and (function.always or function.name in mentioned):
                done.add(index)
                running += [(statement, function.module, function.name) for statement in function.body]


def _split(
    body: Iterable[ast.stmt], module: str, running: list[_Running], functions: list[_Function]
) -> None:
    """Sort a module's or class's statements into code that runs on import and function bodies."""
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = statement.args
            evaluated: list[ast.AST | None] = [
                *statement.decorator_list,
                *arguments.defaults,
                *arguments.kw_defaults,
            ]
            running += [(node, module, None) for node in evaluated if node is not None]
            dunder = statement.name.startswith("__") and statement.name.endswith("__")
            always = dunder or bool(statement.decorator_list)
            functions.append(_Function(module, statement.name, statement.body, always))
        elif isinstance(statement, ast.ClassDef):
            bases: list[ast.AST] = [*statement.decorator_list, *statement.bases, *statement.keywords]
            running += [(node, module, None) for node in bases]
            _split(statement.body, module, running, functions)
        else:
            running.append((statement, module, None))


# --- Which services, operations and actions ---


def _literal(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _method_name(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


@functools.cache
def _operations(services: frozenset[str]) -> dict[str, list[tuple[str, str]]]:
    """Python method name -> (service, operation) of every operation of the services."""
    session = botocore.session.get_session()
    by_method: dict[str, list[tuple[str, str]]] = {}
    for service in sorted(services):
        for operation in session.get_service_model(service).operation_names:
            by_method.setdefault(xform_name(operation), []).append((service, operation))
    return by_method


@functools.cache
def _helper_methods(services: frozenset[str]) -> dict[str, str]:
    """Methods boto3 adds to a client that are not operations (S3's transfer helpers...) -> the service."""
    helpers: dict[str, str] = {}
    generic = set(dir(BaseClient))
    for service in sorted(services):
        client = boto3.client(  # type: ignore[call-overload]
            service, region_name="us-east-1", aws_access_key_id="scan", aws_secret_access_key="scan"
        )
        known = generic | set(_operations(frozenset({service})))
        for name in dir(client):
            if not name.startswith("_") and name not in known and callable(getattr(client, name)):
                helpers[name] = service
    return helpers


def _typed_services(tree: ast.Module) -> set[str]:
    """The services whose client types the module imports from their stubs (``mypy_boto3_<service>``)."""
    stubs = (node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module)
    return {
        module.split(".")[0].removeprefix(STUBS_PREFIX).replace("_", "-")
        for module in stubs
        if module.startswith(STUBS_PREFIX)
    }


def _called_operations(
    call: ast.Call,
    method: str,
    operations: Mapping[str, list[tuple[str, str]]],
    typed: set[str],
    site: CallSite,
) -> list[tuple[str, str]]:
    """The operation a call makes: the only one of that name among the function's services, or among
    those whose client types the module imports."""
    if method == "get_paginator":
        paginated = _literal(call)
        if paginated is None:
            raise ScanError(f"{site}: a paginator whose operation is not a literal")
        method = paginated
    candidates = operations.get(method, [])
    if len(candidates) > 1:
        candidates = [candidate for candidate in candidates if candidate[0] in typed] or candidates
    if len(candidates) > 1:
        services = " and ".join(service for service, _ in candidates)
        raise ScanError(f"{site}: .{method}() is an operation of {services}: which client is it on?")
    return candidates
