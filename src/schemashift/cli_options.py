"""Options shared by the diff-side and the migrations-side commands."""

from __future__ import annotations

import click


def _no_cache(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from . import schema_cache
        from .dialects.postgres import template_cache  # here: --help stays fast

        template_cache.disable()
        schema_cache.disable()
        # for this command only: the CLI called in-process (CliRunner, the pytest plugin) goes on
        ctx.call_on_close(lambda: (template_cache.disable(False), schema_cache.disable(False)))


no_cache_option = click.option(
    "--no-cache", is_flag=True, expose_value=False, callback=_no_cache,
    help="Build and read every source afresh: no template databases or schemas read or kept "
    "[config: cache = false].")
