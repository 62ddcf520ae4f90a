"""The terraform runner against real terraform (built-in ``terraform_data`` resources, no provider): events
reach the handler as terraform prints them, the log keeps every message, and a failure carries each error
diagnostic whole with the log's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamalert_cli.terraform.events import Event
from streamalert_cli.terraform.runner import Terraform, TerraformError

RESOURCES = """
resource "terraform_data" "queue" {
  input = "refresh"
}

resource "terraform_data" "alias" {
  input = terraform_data.queue.output
}
"""


@pytest.fixture
def terraform(tmp_path: Path, terraform_binary: str) -> Terraform:
    (tmp_path / "main.tf").write_text(RESOURCES)
    return Terraform.locate(tmp_path)


def test_init_plan_and_apply_stream_their_events_and_log_their_messages(terraform: Terraform) -> None:
    seen: list[Event] = []

    terraform.init(seen.append)
    (terraform.workdir / "empty.tfvars.json").write_text("{}")
    planned = terraform.plan("test.tfplan", [], "empty.tfvars.json", on_event=seen.append)
    applied = terraform.apply("test.tfplan", seen.append)

    assert planned.summary == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert applied.summary == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    completed = [event.address for event in seen if event.kind == "apply_complete"]
    assert completed == ["terraform_data.queue", "terraform_data.alias"]
    log = (terraform.workdir / "terraform.log").read_text()
    assert "$ terraform apply -json -input=false -auto-approve test.tfplan\n" in log
    assert "terraform_data.alias: Creation complete after 0s" in log
    assert "Terraform has been successfully initialized!" in log
    assert '"@level"' not in log  # messages, not the raw JSON
    assert "Resource actions are indicated" in terraform.show("test.tfplan")


def test_a_failed_plan_carries_each_error_whole_and_the_log_path(terraform: Terraform) -> None:
    (terraform.workdir / "main.tf").write_text(
        RESOURCES + '\nresource "terraform_data" "bad" {\n  bogus = 1\n  triggers = 2\n}\n'
    )
    (terraform.workdir / "empty.tfvars.json").write_text("{}")
    terraform.init()

    with pytest.raises(TerraformError) as raised:
        terraform.plan("test.tfplan", [], "empty.tfvars.json")

    main_tf = terraform.workdir / "main.tf"
    assert raised.value.log == terraform.workdir / "terraform.log"
    blocks = [f"Error:{block}".strip() for block in raised.value.detail.split("Error:")[1:]]
    assert sorted(blocks) == [  # terraform reports them in either order
        "Error: Unsupported argument\n"
        f'  at: {main_tf}:11 (resource "terraform_data" "bad")\n'
        '  An argument named "bogus" is not expected here.',
        "Error: Unsupported argument\n"
        f'  at: {main_tf}:12 (resource "terraform_data" "bad")\n'
        '  An argument named "triggers" is not expected here.',
    ]
    assert "Error: Unsupported argument" in raised.value.log.read_text()


def test_a_failure_before_the_json_view_starts_is_its_text(terraform: Terraform) -> None:
    with pytest.raises(TerraformError) as raised:
        terraform.stream("plan", "-no-such-flag")

    assert "flag provided but not defined: -no-such-flag" in raised.value.detail
