"""The click options of `--online` shared by `diff`, `new` and `sync` (and `--lock-retries`).

Each is None when not given, so the config keys of the same names (`online`,
`online_lock_timeout`, `lock_retries`) and `SCHEMASHIFT_*` apply; see config.Settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def online_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--online` and the lock_timeout each of its locking statements runs under."""
    func = click.option("--online-lock-timeout", metavar="DURATION",
                        help="lock_timeout of each locking statement of --online (default: 100ms).")(func)
    return click.option("--online", is_flag=True, default=None,
                        help="Write the lock-light form: CONCURRENTLY, NOT VALID + VALIDATE, lock_timeout.")(func)


lock_retries_option = click.option(
    "--lock-retries", type=click.IntRange(min=0),
    help="Times a step that hits its lock_timeout is run again (default: 5).")
