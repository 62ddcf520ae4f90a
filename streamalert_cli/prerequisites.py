"""What a machine needs to run the tooling, stated once. The templates' ``required_version`` and the deploy's
terraform check read these; README's "Prerequisites", pyproject's ``requires-python``, tox's envlist and
``scripts/test`` say the same, and tests/streamalert_cli/test_prerequisites.py holds them together.
Standard library only: ``--help`` and the bootstrap import it before anything is installed."""

from __future__ import annotations

import re

from streamalert.constants import LAMBDA_PYTHON_VERSION

# The S3 backend's lockfile (use_lockfile) is 1.10's
TERRAFORM_MIN_VERSION = "1.10"
TERRAFORM_REQUIRED_VERSION = f">= {TERRAFORM_MIN_VERSION}"
# .venv and the deploy run the functions' runtime
DEPLOY_PYTHON_VERSION = LAMBDA_PYTHON_VERSION
# The tests run on every Lambda runtime of Python; the package installs on the oldest
TEST_PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
MIN_PYTHON_VERSION = TEST_PYTHON_VERSIONS[0]

_VERSION = re.compile(r"(\d+)\.(\d+)")


def version_tuple(text: str) -> tuple[int, int] | None:
    """The major and minor numbers of the first ``X.Y`` in ``text`` (``v1.11.4``: (1, 11)); None if none."""
    match = _VERSION.search(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def older_than_terraform_minimum(version: str) -> bool:
    """Whether a terraform version (``1.5.7``) is older than the templates' ``required_version``."""
    found, minimum = version_tuple(version), version_tuple(TERRAFORM_MIN_VERSION)
    return found is not None and minimum is not None and found < minimum
