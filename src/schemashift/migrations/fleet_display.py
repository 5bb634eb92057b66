"""How a fleet run looks. On a terminal, a live view: each running target with what it runs now and
for how long, a line printed above it as each target ends, and the counts so far. Piped or logged,
one plain line per target as it ends. Either way a summary table per target at the end."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from .fleet import Outcome, Target, TargetProgress

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.spinner import Spinner

STATE_STYLE = {"done": "green", "ok": "green", "failed": "red", "behind": "yellow", "skipped": "dim"}
STATE_ORDER = ("done", "ok", "behind", "failed", "skipped")


def display_for(out: TextIO, total: int) -> PlainDisplay | LiveDisplay:
    if out.isatty():  # rich is imported only for a terminal, as in progress.Progress
        from rich.console import Console

        return LiveDisplay(Console(file=out, highlight=False), total)
    return PlainDisplay(out)


def counts(outcome: Outcome, applied_word: str = "applied") -> str:
    shown = [f"{applied_word} {outcome.applied}"] if outcome.applied is not None else []
    shown += [f"pending {outcome.pending}"] if outcome.pending is not None else []
    return ", ".join(shown)


def totals(outcomes: list[Outcome]) -> str:
    found = Counter(o.state for o in outcomes)
    return ", ".join(f"{found[state]} {state}" for state in STATE_ORDER if found[state])


class PlainDisplay:
    """One line per target as it ends: state, target, counts, and the error of a failed one."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def __enter__(self) -> PlainDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def started(self, target: Target, progress: TargetProgress) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        text = f"{outcome.state:<7} {outcome.target.label}"
        text += f"  {counts(outcome)}" if counts(outcome) else ""
        text += f": {outcome.error}" if outcome.error else ""
        with self._lock:
            print(text, file=self.out, flush=True)


class LiveDisplay:
    """A rich Live view of the running targets; ended targets are printed above it."""

    def __init__(self, console: Console, total: int) -> None:
        from rich.live import Live

        self.console = console
        self.total = total
        self.running: dict[Target, tuple[TargetProgress, Spinner]] = {}
        self.ended: list[Outcome] = []
        self._lock = threading.Lock()
        self._live = Live(console=console, get_renderable=self._render, refresh_per_second=8, transient=True)

    def __enter__(self) -> LiveDisplay:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def started(self, target: Target, progress: TargetProgress) -> None:
        from rich.spinner import Spinner

        with self._lock:
            self.running[target] = (progress, Spinner("dots", style="status.spinner"))

    def finished(self, outcome: Outcome) -> None:
        from rich.markup import escape

        with self._lock:
            self.running.pop(outcome.target, None)
            self.ended.append(outcome)
        style = STATE_STYLE.get(outcome.state, "")
        mark = {"done": "✓", "ok": "✓", "failed": "✗"}.get(outcome.state, "-")
        error = f": {escape(outcome.error)}" if outcome.error else ""
        self.console.print(f"[{style}]{mark} {outcome.state}[/] {escape(outcome.target.label)} "
                           f"[dim]{counts(outcome)}[/]{error}", highlight=False, no_wrap=True, overflow="ellipsis")

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 1))
        with self._lock:
            running = list(self.running.items())
            ended = list(self.ended)
        for target, (progress, spinner) in running:
            grid.add_row(spinner, Text(target.label), progress.running or "[dim]connecting ...[/]",
                         f"[dim]applied {progress.applied}[/]")
        so_far = totals(ended)
        return Group(grid, f"[bold]{len(ended)} of {self.total} finished[/]" + (f": {so_far}" if so_far else ""))


def summary(outcomes: list[Outcome], command: str, out: TextIO) -> None:
    """The table of every target: state, applied (by this run, for `up`), pending, error."""
    headers = ("target", "state", "applied now" if command == "up" else "applied", "pending", "error")
    rows = [(o.target.label, o.state, _number(o.applied), _number(o.pending), o.error or "") for o in outcomes]
    if out.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(*headers, box=None, header_style="bold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row), style=STATE_STYLE.get(row[1]))
        console = Console(file=out, highlight=False)
        console.print(table)
        console.print(totals(outcomes))
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:-1])]
    for row in [headers, *rows]:
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
              + (f"  {row[-1]}" if row[-1] else ""), file=out)
    print(totals(outcomes), file=out, flush=True)


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)
