"""What backfill shows while it works: on a terminal a bar per table (folders listed, partitions found,
already there, registered, the rate and, while registering, the time left), otherwise a line a step::

    backfill: cloudtrail: list folders: 2,001 folders listed, 2,000 partitions found, 0 rejected (3.1s)

and at the end a table of every table's counts, then every rejected folder and failed partition."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

from streamalert_cli.backfill_walk import Rejected
from streamalert_cli.common import Progress
from streamalert_cli.terraform.progress import is_terminal


@dataclass
class TableCounts:
    """One table's run: what was listed and found, and what became of it."""

    table: str
    refresh_type: str
    folders_listed: int = 0
    found: int = 0
    already: int = 0
    missing: int = 0
    registered: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    failed: list[Rejected] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        seconds = max(time.monotonic() - self.started, 1e-6)
        return (
            f"{self.folders_listed:,} folders listed, {self.found:,} found, {self.already:,} already there, "
            f"{self.registered:,} registered ({self.folders_listed / seconds:,.0f} folders/s)"
        )


class BackfillProgress(Progress):
    """Step lines as every command prints them; on a terminal, a live bar per table above them."""

    def __init__(self, command: str, out: TextIO | None = None, console: Console | None = None) -> None:
        super().__init__(command, out)
        self.console = console or Console(file=self.out)
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def say(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(f"{self.command}: {text}", markup=False, highlight=False)
        else:
            super().say(text)

    @contextmanager
    def table(self, counts: TableCounts) -> Iterator[None]:
        """Show the table's bar while the block runs (nothing more without a terminal)."""
        if not is_terminal(self.console):
            yield
            return
        bar = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._bar, self._task = bar, bar.add_task(counts.table, total=None, counts="")
        bar.start()
        try:
            yield
        finally:
            bar.stop()
            self._bar = self._task = None

    def update(self, counts: TableCounts) -> None:
        """Refresh the bar: its total is the partitions missing once they are known."""
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                total=counts.missing or None,
                completed=counts.registered,
                counts=counts.line(),
            )


def closing_table(counts: Sequence[TableCounts], dry_run: bool) -> list[str]:
    """The summary: one row a table, then each rejected folder and failed partition with its reason."""
    done = "would register" if dry_run else "registered"
    header = ("table", "refresh type", "folders listed", "found", "already there", done, "rejected", "failed")
    rows = [header] + [
        (
            c.table,
            c.refresh_type,
            f"{c.folders_listed:,}",
            f"{c.found:,}",
            f"{c.already:,}",
            f"{c.missing if dry_run else c.registered:,}",
            f"{len(c.rejected):,}",
            f"{len(c.failed):,}",
        )
        for c in counts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    for c in counts:
        lines += [f"rejected: {c.table}: {r.location}: {r.reason}" for r in c.rejected]
        lines += [f"failed: {c.table}: {r.location}: {r.reason}" for r in c.failed]
    return lines
