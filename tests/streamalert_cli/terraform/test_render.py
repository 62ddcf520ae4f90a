"""Rendering: golden files, determinism, quoting, the build directory, and ``terraform validate``.

Regenerate the golden files after a deliberate template change with
``STREAMALERT_UPDATE_GOLDEN=1 pytest tests/streamalert_cli/terraform/test_render.py`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from config_schemas.models import Source
from streamalert_cli.processors import deployable
from streamalert_cli.terraform import render
from streamalert_cli.terraform.context import DeployTarget, NotificationConflictError
from streamalert_cli.terraform.runner import Terraform
from tests.streamalert_cli.terraform.conftest import CONFIG_NAMES, GOLDEN_DIR, fixture_config

UPDATE_GOLDEN = os.environ.get("STREAMALERT_UPDATE_GOLDEN") == "1"
TARGETS = {"local": DeployTarget(local=True), "aws": DeployTarget(local=False)}


def render_into(build_dir: Path, config_name: str, target: str, *, fmt: bool = True) -> dict[Path, str]:
    """Render a fixture config into ``build_dir`` (terraform fmt applied); the files as written."""
    config = fixture_config(config_name)
    files = render.render_files(config, TARGETS[target], deployable(config))
    render.write_files(files, build_dir)
    if fmt:
        Terraform.locate(build_dir).fmt()
    return {path: (build_dir / path).read_text() for path in files}


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_rendered_terraform_matches_the_golden_files(
    terraform_binary: str, tmp_path: Path, config_name: str, target: str
) -> None:
    rendered = render_into(tmp_path, config_name, target)
    golden_dir = GOLDEN_DIR / config_name / target
    if UPDATE_GOLDEN:
        shutil.rmtree(golden_dir, ignore_errors=True)
        for path, text in rendered.items():
            (golden_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / path).write_text(text)
    golden = {path.relative_to(golden_dir): path.read_text() for path in golden_dir.rglob("*.tf")}

    assert rendered == golden


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_the_same_config_renders_byte_identical_files(config_name: str) -> None:
    config = fixture_config(config_name)

    first = render.render_files(config, TARGETS["aws"], deployable(config))
    second = render.render_files(fixture_config(config_name), TARGETS["aws"], deployable(config))

    assert first == second


def test_config_values_cannot_become_interpolations() -> None:
    config = fixture_config("custom_settings")
    files = render.render_files(config, TARGETS["aws"], deployable(config))

    assert '"prod-data/$${jndi}/*"' not in files[Path("athena_refresh/main.tf")]  # glue only: no data read
    assert '"prod_streamalert:athena_refresh:prod-data/$${jndi}"' in files[Path("main.tf")]
    assert "${jndi}" not in files[Path("main.tf")].replace("$${jndi}", "")


def test_a_value_placed_raw_is_refused(tmp_path: Path) -> None:
    (tmp_path / "raw.tf.j2").write_text('name = "{{ name }}"\n')
    env = render.environment(tmp_path)

    with pytest.raises(render.RenderError, match="without the hcl filter"):
        env.get_template("raw.tf.j2").render(name="x")


def test_a_missing_value_is_an_error_not_an_empty_string(tmp_path: Path) -> None:
    (tmp_path / "shared.tf.j2").write_text("name = {{ missing | hcl }}\n")
    config = fixture_config("basic")

    with pytest.raises(render.RenderError, match="missing"):
        render.render_files(config, TARGETS["aws"], (), templates_dir=tmp_path)


@pytest.mark.parametrize(
    "folder", [render.REPO_ROOT, render.TEMPLATES_DIR, render.REPO_ROOT / "streamalert_cli" / "terraform"]
)
def test_the_source_tree_is_never_a_build_directory(folder: Path) -> None:
    with pytest.raises(render.RenderError, match="source tree"):
        render.write_files({Path("main.tf"): ""}, folder)


def test_files_of_a_removed_module_are_deleted_and_state_kept(tmp_path: Path) -> None:
    (tmp_path / "old_module").mkdir()
    (tmp_path / "old_module" / "main.tf").write_text("# stale\n")
    (tmp_path / "stale.tf").write_text("# stale\n")
    (tmp_path / "terraform.tfstate").write_text("{}")

    render_into(tmp_path, "basic", "aws", fmt=False)

    assert not (tmp_path / "old_module").exists()
    assert not (tmp_path / "stale.tf").exists()
    assert (tmp_path / "terraform.tfstate").exists()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.tf")) == [
        "athena_refresh/main.tf",
        "main.tf",
    ]


@pytest.mark.parametrize(
    ("config_name", "target"),
    [("basic", "local"), ("athena_modes", "aws"), ("all_processors", "local"), ("all_processors", "aws")],
)
def test_rendered_terraform_passes_terraform_validate(
    terraform_binary: str, tmp_path: Path, config_name: str, target: str
) -> None:
    render_into(tmp_path, config_name, target)
    terraform = Terraform.locate(tmp_path)

    terraform.run("init", "-backend=false", "-input=false", "-no-color")
    result = subprocess.run(
        [terraform_binary, "validate", "-no-color"],
        cwd=tmp_path,
        env=terraform.env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "The configuration is valid" in result.stdout


def test_the_local_alert_processor_has_no_event_source_mapping() -> None:
    config = fixture_config("all_processors")
    local = render.render_files(config, TARGETS["local"], deployable(config))
    aws = render.render_files(config, TARGETS["aws"], deployable(config))

    assert 'resource "aws_lambda_event_source_mapping" "alerts"' in aws[Path("alert_processor/main.tf")]
    assert "aws_lambda_event_source_mapping" not in local[Path("alert_processor/main.tf")]
    assert 'resource "aws_kinesis_stream"' in local[Path("rule_processor/main.tf")]
    assert "aws_kinesis_stream" not in aws[Path("rule_processor/main.tf")]


def test_rule_inputs_are_merged_into_the_buckets_notifications() -> None:
    config = fixture_config("all_processors")
    root = render.render_files(config, TARGETS["aws"], deployable(config))[Path("main.tf")]
    shared_bucket = root[root.index('resource "aws_s3_bucket_notification" "bucket_acme_data"') :]
    shared_bucket = shared_bucket[: shared_bucket.index("\n}\n")]

    assert "queue_arn     = module.athena_refresh.queue_arn" in shared_bucket
    assert "lambda_function_arn = module.rule_processor.notified_function_arn" in shared_bucket


def test_overlapping_sources_of_the_refresh_and_the_rule_processor_are_refused_at_render() -> None:
    config = fixture_config("all_processors")
    rule_block = config.rule_processor
    assert rule_block is not None
    overlapping = replace(rule_block, inputs=replace(rule_block.inputs, s3=(Source("acme-data"),)))
    config = replace(config, lambda_config=replace(config.lambda_config, rule_processor=overlapping))

    with pytest.raises(
        NotificationConflictError, match=r"bucket acme-data: .* acme-data/vpc .* acme-data overlap"
    ):
        render.render_files(config, TARGETS["aws"], deployable(config))


def test_a_value_placed_raw_inside_a_macro_is_refused(tmp_path: Path) -> None:
    (tmp_path / "_macros.tf.j2").write_text('{% macro named(name) %}name = "{{ name }}"{% endmacro %}\n')
    (tmp_path / "raw.tf.j2").write_text('{% import "_macros.tf.j2" as tf %}\n{{ tf.named("x") }}\n')
    env = render.environment(tmp_path)

    with pytest.raises(render.RenderError, match="without the hcl filter"):
        env.get_template("raw.tf.j2").render()


def test_a_macro_places_its_quoted_values(tmp_path: Path) -> None:
    (tmp_path / "_macros.tf.j2").write_text("{% macro named(name) %}name = {{ name | hcl }}{% endmacro %}\n")
    (tmp_path / "quoted.tf.j2").write_text('{% import "_macros.tf.j2" as tf %}\n{{ tf.named("${x}") }}\n')

    assert render.environment(tmp_path).get_template("quoted.tf.j2").render() == 'name = "$${x}"\n'
