"""What a run tells the user while it works: a spinner that says what runs now and for how long,
and coloured timings, on a terminal; one plain line per event when the output is piped or logged,
plus a line every `HEARTBEAT_SECONDS` while one thing runs long, so a log shows it is not stuck."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

HEARTBEAT_SECONDS = 10.0


def elapsed(seconds: float) -> str:
    """`4.2 s`, `3 min 05 s`: how long something has run, as a person reads it."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class Running:
    """What runs now and since when; rendered afresh at each refresh of a live display."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.started = time.monotonic()

    def __rich__(self) -> str:
        return f"{self.text} ... [dim]{elapsed(time.monotonic() - self.started)}[/]"


class Progress:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.console: Console | None = None
        if self.out.isatty():  # rich is imported only for a terminal: piped runs start faster
            from rich.console import Console

            self.console = Console(file=self.out, highlight=False)
        self._status: Status | None = None
        self._heartbeat: threading.Event | None = None
        self._printing = threading.Lock()  # a heartbeat line never lands after the line that ends it

    def start(self, text: str) -> None:
        """A spinner with the time so far on a terminal until the next line is printed; piped, a
        line only if it is still running after HEARTBEAT_SECONDS (and every HEARTBEAT_SECONDS on)."""
        self.stop()
        if self.console is not None:
            self._status = self.console.status(Running(text))
            self._status.start()
        else:
            self._heartbeat = threading.Event()
            threading.Thread(target=self._beat, args=(Running(text), self._heartbeat), daemon=True).start()

    def _beat(self, running: Running, stopped: threading.Event) -> None:
        while not stopped.wait(HEARTBEAT_SECONDS):
            with self._printing:
                if not stopped.is_set():
                    print(f"still {running.text} ({elapsed(time.monotonic() - running.started)})",
                          file=self.out, flush=True)

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
        if self._heartbeat is not None:
            with self._printing:
                self._heartbeat.set()
            self._heartbeat = None


@contextlib.contextmanager
def working(text: str, out: TextIO | None = None) -> Iterator[None]:
    """Show `text` and its running time for the length of the block (on stderr by default, so the
    SQL a command prints on stdout stays clean)."""
    progress = Progress(out or sys.stderr)
    progress.start(text)
    try:
        yield
    finally:
        progress.stop()
