"""Running the terraform CLI in a build directory: its own CLI config, no prompts, output kept in a log.

``init``, ``plan`` and ``apply`` run with ``-json``: their events reach a callback as they arrive (the
deploy commands' progress), the log gets each event's message, and a failure carries every error
diagnostic whole.

Providers come from a local mirror when there is one (``STREAMALERT_TF_PLUGIN_DIR``, else ``/opt/tf-plugins``
when it exists), so ``terraform init`` needs no network; otherwise init installs them as usual.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamalert.constants import ENV_TF_PLUGIN_DIR
from streamalert.exceptions import StreamAlertError
from streamalert_cli.prerequisites import TERRAFORM_MIN_VERSION, older_than_terraform_minimum
from streamalert_cli.terraform.events import Event, EventHandler, parse_line

DEFAULT_PLUGIN_DIR = Path("/opt/tf-plugins")
CLI_CONFIG_NAME = ".terraformrc"
LOG_NAME = "terraform.log"
_SUMMARY = re.compile(r"^(Plan:|No changes\.|Apply complete!|Destroy complete!).*$", re.MULTILINE)
_BOX = re.compile(r"^[│╷╵]\s?", re.MULTILINE)
_VERSION_TEXT = re.compile(r"^Terraform v(\d+\.\d+\.\d+)", re.MULTILINE)
_INSTALL = f"install Terraform {TERRAFORM_MIN_VERSION} or later (a prerequisite of deploying)"


class TerraformMissingError(StreamAlertError):
    """No terraform executable, or a plugin mirror that was named but is not there."""


class TerraformVersionError(TerraformMissingError):
    """A terraform older than the templates' ``required_version``: as good as a missing one."""


class TerraformError(StreamAlertError):
    """A terraform command failed; ``detail`` holds its errors whole, ``log`` names the file with all of
    its output."""

    def __init__(self, command: str, detail: str, log: Path | None = None) -> None:
        super().__init__(f"terraform {command} failed:\n{detail}")
        self.command = command
        self.detail = detail
        self.log = log


@dataclass(frozen=True)
class Outcome:
    """What a ``-json`` command printed: its events, and the lines that were not JSON."""

    events: tuple[Event, ...]
    text: str

    @property
    def summary(self) -> str:
        """The last change_summary (``Plan: ...``, ``Apply complete! ...``), '' when there is none."""
        for event in reversed(self.events):
            if event.kind == "change_summary":
                return event.message
        return summary_line(self.text)


def installed_version(binary: str) -> str | None:
    """What ``terraform version`` says (``1.11.4``); None when it says nothing readable, which leaves the
    check to terraform's own ``required_version`` at init."""
    result = subprocess.run(
        [binary, "version", "-json"],
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},  # no call home for the latest version
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError):  # releases before 0.13 print "Terraform v0.12.31"
        match = _VERSION_TEXT.search(result.stdout)
        return match.group(1) if match else None


def plugin_dir(environ: Mapping[str, str]) -> Path | None:
    """The provider mirror to install from, or None for a plain ``terraform init``."""
    named = environ.get(ENV_TF_PLUGIN_DIR, "").strip()
    if named:
        path = Path(named)
        if not path.is_dir():
            raise TerraformMissingError(f"{ENV_TF_PLUGIN_DIR} names no directory: {path}")
        return path
    return DEFAULT_PLUGIN_DIR if DEFAULT_PLUGIN_DIR.is_dir() else None


def cli_config(mirror: Path | None) -> str:
    """A terraform CLI config: no version check, and providers only from the mirror when there is one."""
    lines = ["disable_checkpoint = true"]
    if mirror is not None:
        lines += [
            "",
            "provider_installation {",
            "  filesystem_mirror {",
            f"    path = {json.dumps(str(mirror))}",
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def summary_line(output: str) -> str:
    """The ``Plan: ...`` / ``Apply complete! ...`` line of terraform's output ('' when none)."""
    match = _SUMMARY.search(output)
    return match.group(0).strip() if match else ""


def error_text(output: str) -> str:
    """Terraform's ``Error:`` blocks without their box drawing, or the output's last lines."""
    plain = _BOX.sub("", output)
    start = plain.find("Error:")
    text = plain[start:] if start >= 0 else "\n".join(plain.strip().splitlines()[-10:])
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


@dataclass
class Terraform:
    """The terraform CLI bound to one working directory and environment."""

    workdir: Path
    binary: str
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The process environment as it is now (the emulator sets its own), and this directory's settings."""
        return {**os.environ, **self.overrides}

    @classmethod
    def locate(cls, workdir: Path, extra_env: Mapping[str, str] | None = None) -> Terraform:
        """Find terraform on PATH and write the directory's CLI config; TerraformMissingError if absent."""
        binary = shutil.which("terraform")
        if binary is None:
            raise TerraformMissingError(f"terraform is not on PATH: {_INSTALL}")
        version = installed_version(binary)
        if version is not None and older_than_terraform_minimum(version):
            raise TerraformVersionError(
                f"terraform {version} ({binary}) is older than the templates need: {_INSTALL}"
            )
        overrides = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1", **(extra_env or {})}
        environ = {**os.environ, **overrides}
        mirror = plugin_dir(environ)
        user_config = environ.get("TF_CLI_CONFIG_FILE", "")
        if mirror is not None or not (user_config and Path(user_config).is_file()):
            workdir.mkdir(parents=True, exist_ok=True)
            config_path = workdir / CLI_CONFIG_NAME
            config_path.write_text(cli_config(mirror))
            overrides["TF_CLI_CONFIG_FILE"] = str(config_path)
        return cls(workdir, binary, overrides)

    def run(self, *args: str, check: bool = True) -> str:
        """Run ``terraform <args>`` in the working directory: its output, which is appended to the log.
        TerraformError with terraform's error lines when it fails (and ``check``)."""
        return self._execute(args, check).stdout

    @property
    def log_path(self) -> Path:
        return self.workdir / LOG_NAME

    def stream(self, *args: str, on_event: EventHandler | None = None) -> Outcome:
        """Run ``terraform <args> -json``, handing each event to ``on_event`` as terraform prints it and
        appending its message to the log. TerraformError with every error diagnostic when it fails."""
        command = [args[0], "-json", *args[1:]]  # before the plan file: flags end at the first argument
        events: list[Event] = []
        text: list[str] = []
        with (
            self.log_path.open("a", encoding="utf-8", buffering=1) as log,
            subprocess.Popen(
                [self.binary, *command],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
            ) as process,
        ):
            log.write(f"$ terraform {' '.join(command)}\n")
            for line in process.stdout or ():
                event = parse_line(line)
                if event is None:
                    text.append(line.rstrip("\n"))
                    log.write(line)
                    continue
                log.write(_log_text(event) + "\n")
                events.append(event)
                if on_event is not None:
                    on_event(event)
            log.write("\n")
        outcome = Outcome(tuple(events), "\n".join(text))
        if process.returncode != 0:
            raise TerraformError(args[0], self._failure_detail(outcome, process.returncode), self.log_path)
        return outcome

    def _failure_detail(self, outcome: Outcome, returncode: int) -> str:
        """Every error diagnostic whole, or (a failure before terraform's JSON view starts) its text."""
        errors = [e.diagnostic for e in outcome.events if e.diagnostic is not None and e.diagnostic.is_error]
        if errors:
            return "\n".join(line for diagnostic in errors for line in diagnostic.lines(self.workdir))
        return error_text(outcome.text) or f"exit status {returncode}, no error message"

    def _execute(self, args: Sequence[str], check: bool) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, *args],
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        output = result.stdout + result.stderr
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"$ terraform {' '.join(args)}\n{output}\n")
        if check and result.returncode != 0:
            raise TerraformError(args[0], error_text(output), self.log_path)
        return result

    def fmt(self) -> None:
        self.run("fmt", "-recursive", "-list=false", "-no-color")

    def init(self, on_event: EventHandler | None = None) -> Outcome:
        return self.stream("init", "-input=false", "-reconfigure", on_event=on_event)

    def plan(
        self,
        plan_file: str,
        targets: Sequence[str],
        var_file: str,
        destroy: bool = False,
        on_event: EventHandler | None = None,
    ) -> Outcome:
        args = ["plan", "-input=false", f"-out={plan_file}", f"-var-file={var_file}"]
        args += [f"-target={target}" for target in targets]
        if destroy:
            args.append("-destroy")
        return self.stream(*args, on_event=on_event)

    def apply(self, plan_file: str, on_event: EventHandler | None = None) -> Outcome:
        return self.stream("apply", "-input=false", "-auto-approve", plan_file, on_event=on_event)

    def show(self, plan_file: str) -> str:
        """A saved plan as terraform prints it for people (what ``--plan`` and the confirmation show)."""
        return self.run("show", "-no-color", plan_file)

    def outputs(self) -> dict[str, Any]:
        """The root module's outputs, by name (their values only)."""
        raw = json.loads(self._execute(["output", "-json", "-no-color"], True).stdout or "{}")
        return {name: entry.get("value") for name, entry in raw.items()}

    def state_addresses(self) -> list[str]:
        output = self.run("state", "list", "-no-color", check=False)
        return [line.strip() for line in output.splitlines() if line.strip() and " " not in line.strip()]


def _log_text(event: Event) -> str:
    """An event as the log keeps it: its message, and a diagnostic whole."""
    if event.diagnostic is not None:
        return "\n".join(event.diagnostic.lines())
    return event.message
