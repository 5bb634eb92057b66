"""Click wiring: parse arguments, call the API, print. No logic of its own.

Exit codes follow migra: 0 no differences, 2 differences printed, 3 destructive statements refused
because `--unsafe` was not given, 1 any error. Click exits 2 on a usage error, which here would read
as "differences", so `SchemashiftGroup.main` maps every outcome to our codes and every error to one
line on stderr (`schemashift: ...`, passwords redacted); `--traceback` adds the Python traceback.
"""

from __future__ import annotations

import functools
import gc
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from .cli_options import no_cache_option
from .errors import EXIT_DIFFERENCES, EXIT_ERROR, SchemashiftError, redact
from .online_flags import online_options

TRACEBACK_FLAG = "--traceback"


class SchemashiftGroup(click.Group):
    """The command group whose `main` turns every outcome into an exit code and at most one stderr line."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> int:
        argv = list(sys.argv[1:] if args is None else args)
        # The flag is read from the raw arguments: the traceback is wanted even when parsing is what failed.
        code = _exit_code(
            lambda: super(SchemashiftGroup, self).main(argv, prog_name, complete_var, standalone_mode=False, **extra),
            show_traceback=TRACEBACK_FLAG in argv,
        )
        if standalone_mode:
            sys.exit(code)
        return code


def _exit_code(run: Callable[[], Any], *, show_traceback: bool) -> int:
    try:
        result = run()
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help())
        return 0
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        return _fail(exc.format_message() + hint)
    except click.ClickException as exc:
        return _fail(exc.format_message())
    except click.Abort:
        return _fail("aborted")
    except SchemashiftError as exc:
        if show_traceback:
            _print_traceback()
        return _fail(str(exc), exc.exit_code)
    except Exception as exc:
        what = f"internal error: {type(exc).__name__}" + (f": {exc}" if str(exc) else "")
        if show_traceback:
            _print_traceback()
            return _fail(what)
        return _fail(f"{what} (rerun with {TRACEBACK_FLAG})")
    return result if isinstance(result, int) else 0


def _print_traceback() -> None:
    import traceback  # only on request: --help stays fast

    traceback.print_exc()


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    click.echo(f"schemashift: {redact(' '.join(message.split()))}", err=True)
    return code


traceback_option = click.option(
    TRACEBACK_FLAG, is_flag=True, expose_value=False, help="Show the full Python traceback of an error."
)


@click.group(cls=SchemashiftGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="schemashift")
@traceback_option
def cli() -> None:
    """Change database schemas safely.

    \b
    Exit codes: 0 no differences, 2 differences printed,
    3 destructive changes refused without --unsafe, 1 error.
    """


def inspect_options(func: Callable[..., int]) -> Callable[..., int]:
    """The options every command that reads sources shares, handed to it as `options`: the keyword
    arguments of `api.inspect`/`api.diff` (schemashift's history table always left out)."""

    @click.option("--schema", "schemas", multiple=True, metavar="NAME", help="Only this schema (repeatable).")
    @click.option("--exclude-schema", "exclude_schemas", multiple=True, metavar="NAME",
                  help="Leave this schema out (repeatable).")
    @click.option("--dev-url", metavar="URL", help="Server for scratch databases [env: SCHEMASHIFT_DEV_URL].")
    @click.option("--pg-bin", metavar="DIR", help="PostgreSQL binaries for the throwaway server [env: SCHEMASHIFT_PG_BIN].")
    @click.option("--dialect", metavar="NAME",
                  help="postgresql, sqlite or mysql: the engine of .sql files and folders, when no side is a "
                       "database that names it (default postgresql) [env: SCHEMASHIFT_DIALECT].")
    @click.option("--format", "output_format", type=click.Choice(["sql", "json"]), default="sql", show_default=True)
    @no_cache_option
    @traceback_option
    @functools.wraps(func)
    def wrapper(schemas: tuple[str, ...], exclude_schemas: tuple[str, ...], dev_url: str | None,
                pg_bin: str | None, dialect: str | None, **kwargs: Any) -> int:
        from .config import load_settings

        settings = load_settings({"dialect": dialect})
        options = dict(schemas=list(schemas) or None, exclude_schemas=list(exclude_schemas) or None,
                       ignore_tables=(settings.history_table,), dev_url=dev_url, pg_bin=pg_bin,
                       dialect=settings.dialect)
        return func(options=options, **kwargs)

    return wrapper


@cli.command("diff")
@click.argument("source")
@click.argument("target")
@click.option("--unsafe", is_flag=True, help="Allow destructive statements (drops, data-losing type changes).")
@click.option("--explain", is_flag=True, help="Put a '-- locks:' comment above each statement: what it locks, "
              "and whether it rewrites or scans the table.")
@online_options
@inspect_options
def diff_command(source: str, target: str, unsafe: bool, explain: bool, output_format: str, options: dict[str, Any],
                 online: bool | None, online_lock_timeout: str | None) -> int:
    """Print the SQL that turns SOURCE into TARGET.

    SOURCE and TARGET are each a database (a postgresql:// URL, a sqlite:/// URL or .db file), a .sql
    file, a folder of .sql files (loaded in name order), 'empty', migrations:DIR (a migrations folder
    replayed) or python:pkg.module:attr (SQLAlchemy models). Files are loaded into scratch databases
    of the sides' engine (--dialect when no side names one): on a throwaway PostgreSQL server
    (embedded unless --dev-url or --pg-bin says otherwise), in memory for SQLite. Databases are only
    read. schemashift's own history table is left out.

    Destructive statements are refused (exit 3, nothing printed) unless --unsafe is given; with
    --online, so are statements that rewrite a table (see docs/online.md).
    """
    from . import api  # here, not at start-up: --help stays fast
    from .config import load_settings
    from .online_flags import from_settings

    settings = load_settings({"online": online, "online_lock_timeout": online_lock_timeout})
    plan = api.diff(source, target, **options, online=from_settings(settings), locks=explain or output_format == "json")
    if not unsafe:
        plan.check_safe()
    if output_format == "json":
        click.echo(plan.to_json())
    elif plan:
        click.echo(plan.text(explain=explain).rstrip("\n"))
    return EXIT_DIFFERENCES if plan else 0


@cli.command("dump")
@click.argument("source")
@inspect_options
def dump_command(source: str, output_format: str, options: dict[str, Any]) -> int:
    """Print SOURCE's schema as dependency-ordered, normalised SQL (what creates it from an empty
    database), or as the JSON model. SOURCE is anything `diff` takes."""
    from . import api

    schema = api.inspect(source, **options)
    if output_format == "json":
        from .schema_json import to_json

        click.echo(to_json(schema))
    else:
        empty = api.inspect("empty", **{**options, "dialect": schema.dialect})
        click.echo(api.diff_schemas(empty, schema).sql.rstrip("\n"))
    return 0


from .lint_command import lint  # noqa: E402
from .migrations.commands import COMMANDS  # noqa: E402
from .rehearse_command import rehearse  # noqa: E402
from .runtime.server_commands import server  # noqa: E402

cli.add_command(server)
cli.add_command(lint)
cli.add_command(rehearse)

for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    """One command, then exit. Cyclic garbage collection is off for it: its runs would only rescan
    the tens of thousands of schema objects (which form no cycles; about 60 ms of a GitLab diff),
    and what little cyclic garbage a command leaves is gone when it exits. The user's models are
    imported here rather than in a child Python (see models_source). psycopg's log records
    (say, a pipeline it cannot end after a cancelled query) would reach stderr through logging's
    last-resort handler, beside the one line an error gets: they are dropped."""
    gc.disable()
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    from .models_source import compile_in_this_process

    compile_in_this_process()  # this process serves one call: it may import the user's models
    cli()
