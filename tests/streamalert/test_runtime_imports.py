"""What the zips carry of ours (the runtime ``streamalert/``, ``config_schemas/``, ``apps/``, ``rules/``)
imports only what a zip holds: the standard library, itself, its vendored dependencies and what the Lambda
runtime provides. Never the tooling (``streamalert_cli``) nor what only the tooling needs (jinja2, moto):
such an import would fail on Lambda, or drag the tooling into every zip."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.imports import Import, imports, tooling_imports

SHIPPED_PACKAGES = ("streamalert", "config_schemas", "apps", "rules")
# Vendored into the zips (marshmallow, msgspec), or provided by the Lambda runtime (boto3, botocore)
ZIP_DEPENDENCIES = frozenset({"marshmallow", "msgspec", "boto3", "botocore"})
# boto3's type stubs: imported under ``if TYPE_CHECKING:`` only, never at run time
STUBS_PREFIX = "mypy_boto3_"


def shipped_modules() -> list[Path]:
    return sorted(
        path
        for package in SHIPPED_PACKAGES
        for path in (REPO / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def available_in_lambda(found: Import) -> bool:
    if found.typing_only and found.top_level.startswith(STUBS_PREFIX):
        return True
    return found.top_level in {*sys.stdlib_module_names, *SHIPPED_PACKAGES, *ZIP_DEPENDENCIES}


@pytest.mark.parametrize("path", shipped_modules(), ids=lambda path: str(path.relative_to(REPO)))
def test_shipped_code_imports_only_what_a_zip_holds(path: Path) -> None:
    unavailable = [found for found in imports(path.read_text()) if not available_in_lambda(found)]

    assert unavailable == []


def test_the_runtime_never_imports_the_tooling() -> None:
    found = {
        str(path.relative_to(REPO)): tooling_imports(path.read_text())
        for path in shipped_modules()
        if path.is_relative_to(REPO / "streamalert")
    }

    assert len(found) > 10  # the runtime's modules were read
    assert {module: hits for module, hits in found.items() if hits} == {}


@pytest.mark.parametrize(
    "source",
    [
        "from streamalert_cli.packaging import build_package\n",
        "import streamalert_cli\n",
        "def render() -> None:\n    import jinja2\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from moto import mock_aws\n",
    ],
)
def test_an_import_of_the_tooling_is_found_wherever_it_is(source: str) -> None:
    assert tooling_imports(source)


def test_type_stubs_pass_under_type_checking_only() -> None:
    guarded = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mypy_boto3_sqs import SQSClient\n"
    )
    (typed,) = (found for found in imports(guarded) if found.top_level.startswith(STUBS_PREFIX))
    (plain,) = imports("from mypy_boto3_sqs import SQSClient\n")

    assert available_in_lambda(typed)
    assert not available_in_lambda(plain)
