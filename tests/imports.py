"""What a module's source imports, read statically: where the runtime and the zips are checked for the
tooling (an import inside a function counts, as it runs when the function does)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

# Never imported by what runs in Lambda: the tooling, its dependencies, and what only a laptop or CI has
TOOLING_MODULES = frozenset({"streamalert_cli", "jinja2", "moto", "benchmarks", "tests", "scripts"})


@dataclass(frozen=True)
class Import:
    """One imported module: its full name, the line, and whether only type checkers run it."""

    module: str
    line: int
    typing_only: bool

    @property
    def top_level(self) -> str:
        return self.module.partition(".")[0]


def imports(source: str) -> Iterator[Import]:
    """Every absolute import of ``source`` (relative ones stay inside their package)."""
    tree = ast.parse(source)
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and _is_type_checking(block.test)
        for statement in block.body
        for node in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno, id(node) in typing_only)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield Import(node.module, node.lineno, id(node) in typing_only)


def tooling_imports(source: str) -> list[Import]:
    """The imports of ``source`` that reach the tooling (``TOOLING_MODULES``), typing-only ones included."""
    return [found for found in imports(source) if found.top_level in TOOLING_MODULES]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
