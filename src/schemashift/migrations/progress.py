"""What a run tells the user while it works: a spinner and coloured timings on a terminal, one plain
line per event when the output is piped or logged."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status


class Progress:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.console: Console | None = None
        if self.out.isatty():  # rich is imported only for a terminal: piped runs start faster
            from rich.console import Console

            self.console = Console(file=self.out, highlight=False)
        self._status: Status | None = None

    def start(self, text: str) -> None:
        """A spinner on a terminal until the next line is printed (nothing when piped)."""
        self.stop()
        if self.console is not None:
            self._status = self.console.status(f"{text} ...")
            self._status.start()

    def finished(self, text: str, ms: int | None = None) -> None:
        self.stop()
        timing = f" ({ms} ms)" if ms is not None else ""
        if self.console is not None:
            self.console.print(f"[green]✓[/] {text}[dim]{timing}[/]")
        else:
            print(f"{text}{timing}", file=self.out, flush=True)

    def note(self, text: str) -> None:
        self.stop()
        if self.console is not None:
            self.console.print(f"[yellow]{text}[/]")
        else:
            print(text, file=self.out, flush=True)

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
