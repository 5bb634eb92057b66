"""Click wiring: parse arguments, call the API, print. No logic of its own."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="schemashift")
def cli() -> None:
    """Change database schemas safely."""


from .migrations.commands import COMMANDS  # noqa: E402

for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    cli()
