"""Progress bars on stderr (rich), or nothing at all.

Library code takes an optional ``Progress`` and calls ``progress.task(...)``;
it never imports rich itself and never prints. ``Progress(enabled=False)`` (the
default for library users) makes every call a no-op, so results on stdout stay
clean and tests stay quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Progress", "TaskHandle"]


def _literal(text: str) -> str:
    """Descriptions and statuses name files and settings: escaped, so rich shows them as typed."""
    from rich.markup import escape

    return escape(text)


class TaskHandle:
    """One running bar: ``advance(n, status=...)`` moves it and updates its status text."""

    def __init__(self, bar=None, task_id=None):
        self._bar = bar
        self._task_id = task_id

    def advance(self, amount: float = 1, status: str | None = None) -> None:
        if self._bar is None:
            return
        fields = {} if status is None else {"status": _literal(status)}
        self._bar.update(self._task_id, advance=amount, **fields)

    def update(self, *, total: float | None = None, status: str | None = None) -> None:
        if self._bar is None:
            return
        fields = {} if status is None else {"status": _literal(status)}
        self._bar.update(self._task_id, total=total, **fields)


class Progress:
    """Factory of progress bars written to stderr; silent when disabled or stderr is not a terminal."""

    def __init__(self, enabled: bool = False):
        # Bars are for people: when stderr is a file or pipe they would only litter it.
        self.enabled = enabled and sys.stderr.isatty()

    @contextmanager
    def task(self, description: str, total: float | None = None, unit: str = "") -> Iterator[TaskHandle]:
        """Show a bar for the duration of the ``with`` block (a spinner when ``total`` is unknown)."""
        if not self.enabled:
            yield TaskHandle()
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        columns = [
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn() if unit == "items" else TextColumn(""),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
        ]
        console = Console(file=sys.stderr)
        # Spinners (no total) vanish when done; bars stay as a record (e.g. each epoch's loss).
        with RichProgress(*columns, console=console, transient=total is None) as bar:
            task_id = bar.add_task(_literal(description), total=total, status="")
            yield TaskHandle(bar, task_id)
