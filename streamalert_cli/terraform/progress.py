"""What the deploy commands show while terraform runs: on a terminal a progress bar (rich) of the resources
done of the plan's total, otherwise a line per finished resource::

    deploy: apply: 12/50 module.athena_refresh.aws_sqs_queue.refresh created (1.2s)

``init`` and ``plan`` print nothing of their own without a terminal (their step line follows); on a
terminal a spinner names what terraform is doing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress

from streamalert_cli.terraform.events import Event, EventHandler, ResourceCount

# The phases whose finished resources are counted (init and plan change nothing)
COUNTED_PHASES = frozenset({"apply"})
# Events that say what terraform works on now
_BUSY_WITH = frozenset({"apply_start", "refresh_start", "init_output", "log"})


class Reporter(Protocol):
    """Where a command's progress lines go (streamalert_cli.common.Progress)."""

    @property
    def out(self) -> TextIO: ...

    def say(self, text: str) -> None: ...


class LinePerResource:
    """Without a terminal: a line per finished (or failed) resource, counted against the plan's total."""

    def __init__(self, reporter: Reporter, phase: str) -> None:
        self.reporter = reporter
        self.phase = phase
        self.count = ResourceCount()

    def __call__(self, event: Event) -> None:
        completed = self.count.update(event)
        if completed is not None and self.phase in COUNTED_PHASES:
            self.reporter.say(f"{self.phase}: {completed.line()}")


class ProgressBar:
    """On a terminal: a bar of resources done of the total with what is running now (a spinner and what
    terraform is doing for init and plan); it is erased when the phase ends, and its step line follows."""

    def __init__(self, console: Console, phase: str) -> None:
        self.phase = phase
        self.count = ResourceCount()
        columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
        if phase in COUNTED_PHASES:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns += [TimeElapsedColumn(), TextColumn("{task.fields[busy_with]}")]
        self.display = RichProgress(*columns, console=console, transient=True)
        self.task: TaskID = self.display.add_task(phase, total=None, busy_with="")

    def __enter__(self) -> ProgressBar:
        self.display.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.display.stop()

    def __call__(self, event: Event) -> None:
        self.count.update(event)
        busy_with = self._busy_with(event)
        if busy_with is not None:
            self.display.update(self.task, busy_with=busy_with)
        self.display.update(self.task, total=self.count.total or None, completed=self.count.done)

    def _busy_with(self, event: Event) -> str | None:
        """What to show beside the bar: the resources still running, or terraform's latest message."""
        if self.phase in COUNTED_PHASES and event.kind.startswith("apply_"):
            running = list(self.count.running)
            if not running:
                return ""
            return running[-1] + (f" (+{len(running) - 1} more)" if len(running) > 1 else "")
        if event.kind in _BUSY_WITH:
            return event.address or (event.message.splitlines() or [""])[0]
        return None


def is_terminal(console: Console) -> bool:
    return console.is_terminal and not console.is_dumb_terminal


@contextmanager
def watch(reporter: Reporter, phase: str, console: Console | None = None) -> Iterator[EventHandler]:
    """A handler of one terraform command's events that shows its progress on the reporter's output:
    a bar on a terminal, a line per finished resource otherwise."""
    console = console or Console(file=reporter.out)
    if not is_terminal(console):
        yield LinePerResource(reporter, phase)
        return
    with ProgressBar(console, phase) as bar:
        yield bar
