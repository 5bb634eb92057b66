"""`--online` as the commands take it: the click options shared by `diff`, `new`, `sync` and
`rehearse` (and `--lock-retries`), and the `OnlineOptions` they make for a dialect's online form.

Each option is None when not given, so the config keys of the same names (`online`,
`online_lock_timeout`, `lock_retries`) and `SCHEMASHIFT_*` apply; see config.Settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .config import Settings


@dataclass(frozen=True)
class OnlineOptions:
    """How the online form is written: the `lock_timeout` each locking statement runs under."""

    lock_timeout: str = "100ms"


def from_settings(settings: Settings) -> OnlineOptions | None:
    """The online form `settings` ask for (`online`, `online_lock_timeout`), None for the plain plan."""
    return OnlineOptions(settings.online_lock_timeout) if settings.online else None


def online_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--online` and the lock_timeout each of its locking statements runs under."""
    func = click.option("--online-lock-timeout", metavar="DURATION",
                        help="lock_timeout of each locking statement of --online (default: 100ms).")(func)
    return click.option("--online", is_flag=True, default=None,
                        help="Write the lock-light form: CONCURRENTLY, NOT VALID + VALIDATE, lock_timeout.")(func)


lock_retries_option = click.option(
    "--lock-retries", type=click.IntRange(min=0),
    help="Times a step that hits its lock_timeout is run again (default: 5).")
