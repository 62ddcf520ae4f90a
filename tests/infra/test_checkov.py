"""Checkov on the rendered Terraform of the example config: no failed check but the reasoned skips of
``checkov_skips.yaml``. Offline (``--skip-download``); runs in the tox ``infra`` environment."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamalert.config import load_config
from streamalert_cli.processors import deployable
from streamalert_cli.terraform import render
from streamalert_cli.terraform.context import DeployTarget

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
SKIPS_FILE = Path(__file__).with_name("checkov_skips.yaml")


def checkov_binary() -> str:
    """checkov beside this interpreter (the tox env), else on PATH; the test skips without it."""
    beside = Path(sys.executable).with_name("checkov")
    found = str(beside) if beside.is_file() else shutil.which("checkov")
    if found is None:
        pytest.skip("checkov is not installed: run tox -e infra")
    return found


def skips() -> dict[str, str]:
    loaded: Any = yaml.safe_load(SKIPS_FILE.read_text())
    assert isinstance(loaded, dict)
    return {str(check): str(reason) for check, reason in loaded.items()}


def failed_checks(build_dir: Path) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """(failed check id -> resources, summary) of checkov run offline on the directory."""
    command = [checkov_binary(), "-d", str(build_dir), "--framework", "terraform"]
    command += ["--skip-download", "--compact", "--quiet", "-o", "json"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode in {0, 1}, result.stderr
    report: Any = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed: dict[str, list[str]] = {}
    for entry in reports:
        for check in entry["results"]["failed_checks"]:
            failed.setdefault(check["check_id"], []).append(check["resource"])
    return failed, reports[0]["summary"]


@pytest.fixture(scope="module")
def checkov_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[str]], dict[str, Any]]:
    config = load_config(REPO / "conf")
    build_dir = tmp_path_factory.mktemp("terraform")
    render.write_files(render.render_files(config, DeployTarget(local=False), deployable(config)), build_dir)
    return failed_checks(build_dir)


def test_every_skip_says_why() -> None:
    for check, reason in skips().items():
        assert check.startswith(("CKV_AWS_", "CKV2_AWS_")), check
        assert len(reason.split()) >= 5, f"{check}: give the reason"


def test_no_check_fails_but_the_reasoned_skips(
    checkov_result: tuple[dict[str, list[str]], dict[str, Any]],
) -> None:
    failed, summary = checkov_result

    unexpected = {check: resources for check, resources in failed.items() if check not in skips()}
    assert unexpected == {}, f"checkov: {summary}"
    assert summary["passed"] > 0
    assert summary["parsing_errors"] == 0


def test_no_skip_is_stale(checkov_result: tuple[dict[str, list[str]], dict[str, Any]]) -> None:
    failed, _ = checkov_result

    assert sorted(set(skips()) - set(failed)) == []
