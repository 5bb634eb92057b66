"""`schemashift server status|stop`: look at and stop the servers kept between runs (see keeper)."""

from __future__ import annotations

import click


@click.group("server")
def server() -> None:
    """The PostgreSQL servers kept running between calls to load .sql files.

    A server started for `diff` stays up in the user's cache folder until it has been idle for
    $SCHEMASHIFT_SERVER_IDLE minutes (default 10; 0 starts a throwaway server per call instead).
    So does the warm process: schemashift with its imports done, which runs the next calls.
    """


@server.command()
def status() -> None:
    """List kept servers and whether each is running."""
    from . import keeper

    from . import warm

    homes = keeper.homes()
    if not homes:
        click.echo(f"no kept servers in {keeper.servers_dir()}")
    for home in homes:
        pid = keeper.postmaster_pid(home / "data")
        click.echo(f"{home}: " + (f"running (pid {pid})" if pid else "stopped"))
    for path, pid in warm.running():
        click.echo(f"warm process {path}: running (pid {pid})")


@server.command()
def stop() -> None:
    """Stop every kept server now (after running schemashift commands finish), and the warm
    process; a server's data stays for a faster next start."""
    from . import keeper, warm

    for path, _pid in warm.running():
        if warm.stop(path + ".pid"):
            click.echo(f"stopped warm process {path}")
    stopped = [home for home in keeper.homes() if keeper.stop(home)]
    for home in stopped:
        click.echo(f"stopped {home}")
    if not stopped:
        click.echo("no kept server was running")
