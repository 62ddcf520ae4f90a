"""Terraform's ``-json`` output read and shown: resources done of the plan's total, a line per finished
resource without a terminal, a bar on one, and each error diagnostic whole.

The streams in tests/fixtures/terraform/json were recorded from terraform 1.11: ``*_create`` and
``*_replace`` from a module ``athena_refresh`` of three ``terraform_data`` resources (one with a 1.2 s
local-exec, replaced when a variable changes), ``apply_errored`` from an SQS queue whose endpoint refused
connections, ``plan_error`` from an unknown argument, ``init_error`` from a provider version the mirror
lacks.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from streamalert_cli.terraform.events import Event, ResourceCount, parse_line
from streamalert_cli.terraform.progress import watch

STREAMS = Path(__file__).resolve().parents[2] / "fixtures" / "terraform" / "json"
MODULE = "module.athena_refresh.terraform_data"


class Lines:
    """A reporter that keeps what it is told, as streamalert_cli.common.Progress prints it."""

    def __init__(self, out: io.StringIO | None = None) -> None:
        self.out = out or io.StringIO()
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(f"deploy: {text}")


def events(name: str) -> list[Event]:
    parsed = [parse_line(line) for line in (STREAMS / f"{name}.jsonl").read_text().splitlines()]
    return [event for event in parsed if event is not None]


def shown(name: str, phase: str) -> list[str]:
    reporter = Lines()
    with watch(reporter, phase) as on_event:
        for event in events(name):
            on_event(event)
    assert reporter.out.getvalue() == ""  # no terminal: nothing but the lines
    return reporter.said


def test_without_a_terminal_apply_prints_a_line_per_resource_against_the_plan_total() -> None:
    assert shown("apply_create", "apply") == [
        f"deploy: apply: 1/3 {MODULE}.queue created (0.0s)",
        f"deploy: apply: 2/3 {MODULE}.function created (1.2s)",
        f"deploy: apply: 3/3 {MODULE}.alias created (0.0s)",
    ]


def test_a_replacement_counts_its_destroy_and_its_create() -> None:
    assert shown("apply_replace", "apply") == [
        f"deploy: apply: 1/3 {MODULE}.function destroyed (0.0s)",
        f"deploy: apply: 2/3 {MODULE}.function created (1.2s)",
        f"deploy: apply: 3/3 {MODULE}.alias updated (0.0s)",
    ]


def test_a_failed_resource_is_a_line_and_is_not_counted_as_done() -> None:
    assert shown("apply_errored", "apply") == [
        "deploy: apply: 1/2 terraform_data.x created (0.0s)",
        "deploy: apply: 1/2 aws_sqs_queue.refresh create failed (23.5s)",
    ]


def test_the_plan_total_is_its_change_summary_and_a_plan_prints_no_lines() -> None:
    count = ResourceCount()
    for event in events("plan_create"):
        count.update(event)

    assert (count.total, count.done) == (3, 0)
    assert shown("plan_create", "plan") == []


def test_more_finished_than_announced_raise_the_total_instead_of_passing_it() -> None:
    count = ResourceCount()
    finished = [e for e in events("apply_create") if e.kind in ("apply_start", "apply_complete")]
    for event in finished:
        count.update(event)

    assert (count.done, count.total) == (3, 3)


def test_an_error_diagnostic_is_whole_with_its_resource_and_file_line() -> None:
    diagnostics = [e.diagnostic for e in events("apply_errored") if e.diagnostic is not None]

    assert len(diagnostics) == 1
    lines = diagnostics[0].lines(Path("/build/terraform/local"))
    assert lines[0].startswith("Error: creating SQS Queue (refresh): operation error SQS: CreateQueue,")
    assert lines[0].endswith('Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused')
    assert lines[1:] == [
        "  resource: aws_sqs_queue.refresh",
        '  at: /build/terraform/local/main.tf:18 (resource "aws_sqs_queue" "refresh")',
    ]


def test_a_diagnostic_keeps_every_line_of_its_detail() -> None:
    (diagnostic,) = [e.diagnostic for e in events("init_error") if e.diagnostic is not None]

    assert diagnostic.lines() == [
        "Error: Failed to query available provider packages",
        "  Could not retrieve the list of available versions for provider hashicorp/aws: no available "
        "releases match the given constraints 5.99.0",
        "",
        "  To see which modules are currently depending on hashicorp/aws and what versions are specified, "
        "run the following command:",
        "      terraform providers",
    ]


@pytest.mark.parametrize("line", ["", "Usage: terraform [global options] <subcommand>", "[1, 2]", '{"a": 1}'])
def test_lines_that_are_not_terraform_events_are_none(line: str) -> None:
    assert parse_line(line) is None


def test_on_a_terminal_apply_draws_a_bar_of_resources_done() -> None:
    out = io.StringIO()
    reporter = Lines(out)
    console = Console(file=out, force_terminal=True, width=160)

    with watch(reporter, "apply", console) as on_event:
        for event in events("apply_create"):
            on_event(event)

    assert reporter.said == []
    assert "━" in out.getvalue()
    assert "apply" in out.getvalue()
    assert "3/3" in out.getvalue()
