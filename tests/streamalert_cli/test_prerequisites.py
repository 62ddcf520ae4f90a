"""The prerequisites are stated once and match what the code checks: README's list, pyproject, tox, the
templates' required_version, and the deploy's terraform check (exit 2 for a terraform that is too old)."""

from __future__ import annotations

import re
import stat
from configparser import ConfigParser
from pathlib import Path

import pytest

from streamalert_cli.deploy import main as deploy
from streamalert_cli.prerequisites import (
    DEPLOY_PYTHON_VERSION,
    MIN_PYTHON_VERSION,
    TERRAFORM_MIN_VERSION,
    TERRAFORM_REQUIRED_VERSION,
    TEST_PYTHON_VERSIONS,
    older_than_terraform_minimum,
)
from streamalert_cli.terraform.runner import Terraform, TerraformVersionError

REPO = Path(__file__).resolve().parents[2]
BASIC = REPO / "tests" / "fixtures" / "terraform" / "configs" / "basic"


def readme_prerequisites() -> str:
    text = (REPO / "README.md").read_text()
    return text.split("## Prerequisites\n", 1)[1].split("\n## ", 1)[0]


def test_readme_states_what_the_code_checks() -> None:
    stated = " ".join(readme_prerequisites().split())

    assert f"**Python {DEPLOY_PYTHON_VERSION}**" in stated
    assert f"**Terraform {TERRAFORM_MIN_VERSION} or later**" in stated
    assert "**git**" in stated
    versions = ", ".join(TEST_PYTHON_VERSIONS[:-1]) + f" and {TEST_PYTHON_VERSIONS[-1]}"
    assert f"**Python {versions}**" in stated
    assert f"{MIN_PYTHON_VERSION} or newer" in stated


def test_the_folders_said_safe_to_delete_are_ignored_by_git() -> None:
    said = re.findall(r"^\| `([^`]+/)` \|", readme_prerequisites(), re.MULTILINE)
    ignored = (REPO / ".gitignore").read_text().splitlines()

    assert said == [".venv/", "build/", "build/terraform/*/.terraform/", ".venv-tox/", ".tox/"]
    assert all(folder.split("/")[0] + "/" in ignored for folder in said)


def test_no_other_doc_states_a_version_of_its_own() -> None:
    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    assert "(../README.md#prerequisites)" in deploy_doc
    for doc in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        text = doc.read_text()
        if doc.name == "README.md" and doc.parent == REPO:
            text = text.replace(readme_prerequisites(), "")
        assert not re.search(r"[Tt]erraform \(?\d+\.\d+", text), doc
        assert not re.search(r"Python 3\.\d+\+", text), doc


def test_pyproject_and_tox_support_the_tested_pythons() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()  # tomllib is 3.11's
    tox = ConfigParser()
    tox.read(REPO / "tox.ini")
    envlist = [name.strip() for name in tox["tox"]["envlist"].split(",")]
    scripts_test = (REPO / "scripts" / "test").read_text()

    assert f'\nrequires-python = ">={MIN_PYTHON_VERSION}"\n' in pyproject
    assert [name for name in envlist if name.startswith("py")] == [
        "py" + version.replace(".", "") for version in TEST_PYTHON_VERSIONS
    ]
    assert scripts_test.count(f"for minor in {' '.join(TEST_PYTHON_VERSIONS)}; do") == 2


def test_the_templates_require_the_same_terraform() -> None:
    shared = (REPO / "tf_templates" / "shared.tf.j2").read_text()
    golden = (REPO / "tests" / "fixtures" / "terraform" / "golden" / "basic" / "aws" / "main.tf").read_text()

    assert "required_version = {{ terraform_required_version | hcl }}" in shared
    assert f'required_version = "{TERRAFORM_REQUIRED_VERSION}"' in golden


@pytest.mark.parametrize(
    ("version", "older"),
    [
        ("1.5.7", True),
        ("1.9.8", True),
        ("0.12.31", True),
        ("1.10.0", False),
        ("1.11.4", False),
        ("2.0.0", False),
    ],
)
def test_older_than_the_minimum(version: str, older: bool) -> None:
    assert older_than_terraform_minimum(version) is older


def fake_terraform(bin_dir: Path, version_output: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "terraform"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{version_output}\nEOF\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(
    ("output", "found"),
    [
        ('{"terraform_version": "1.5.7", "platform": "linux_amd64"}', "1.5.7"),
        ("Terraform v0.12.31", "0.12.31"),
    ],
)
def test_an_older_terraform_is_refused(
    output: str, found: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_terraform(tmp_path / "bin", output)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")

    with pytest.raises(
        TerraformVersionError, match=rf"terraform {found} \(.*\) is older than the templates need"
    ):
        Terraform.locate(tmp_path / "work")


def test_a_terraform_of_the_minimum_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_terraform(tmp_path / "bin", f'{{"terraform_version": "{TERRAFORM_MIN_VERSION}.0"}}')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")

    assert Terraform.locate(tmp_path / "work").binary == str(tmp_path / "bin" / "terraform")


def test_deploy_with_an_older_terraform_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_terraform(tmp_path / "bin", '{"terraform_version": "1.5.7"}')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")

    argv = ["--processor", "athena", "--yes", "--config-dir", str(BASIC), "--build-dir", str(tmp_path / "b")]
    assert deploy(argv) == 2

    err = capsys.readouterr().err
    assert err.startswith("deploy: terraform 1.5.7 (")
    assert err.endswith(
        f"is older than the templates need: install Terraform {TERRAFORM_MIN_VERSION} or later "
        "(a prerequisite of deploying)\n"
    )
