"""pytest plugin (entry point `pytest11: schemashift`): databases built by the project's migrations.

Fixtures:
- `schemashift_database`: the URL of a fresh database with the migrations applied (and recorded in
  the history table, as `up` leaves it), dropped after the test. Each test gets its own copy, cloned
  from a template built once per session, so a test costs a `CREATE DATABASE`, not a replay.
- `schemashift_phase`: `"head"`, or with `--schemashift-prepost VERSION` the phase the test runs in.
- `schemashift_settings`, `schemashift_server`: the settings (from `schemashift.toml`, the
  environment and the `schemashift_migrations` ini option) and the server; override them in a
  conftest to use another folder or server.

`--schemashift-prepost VERSION` runs every test that uses `schemashift_database` twice: `before`,
on a database at VERSION (where production is), and `after`, with the pending migrations applied,
so the code is shown to work on both sides of the deployment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PREPOST_OPTION = "--schemashift-prepost"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("schemashift")
    group.addoption(PREPOST_OPTION, metavar="VERSION", default=None,
                    help="run tests that use schemashift_database before (at VERSION) and after the pending migrations")
    parser.addini("schemashift_migrations", "migrations folder for schemashift_database (default: schemashift's settings)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "schemashift_phase" in metafunc.fixturenames and metafunc.config.getoption(PREPOST_OPTION):
        metafunc.parametrize("schemashift_phase", ["before", "after"], indirect=True)


@pytest.fixture
def schemashift_phase(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "head")


@pytest.fixture(scope="session")
def schemashift_settings(pytestconfig: pytest.Config) -> Any:
    from .config import load_settings

    folder = pytestconfig.getini("schemashift_migrations")
    return load_settings({"migrations": Path(pytestconfig.rootpath, folder) if folder else None},
                         cwd=pytestconfig.rootpath)


@pytest.fixture(scope="session")
def schemashift_server(schemashift_settings: Any) -> Any:
    from .dialects.postgres.servers import get_server

    return get_server(schemashift_settings.dev_url, schemashift_settings.pg_bin)


@pytest.fixture(scope="session")
def _schemashift_templates(pytestconfig: pytest.Config, schemashift_settings: Any,
                           schemashift_server: Any) -> Iterator[dict[str, str]]:
    """Template databases by phase, each built on first use and dropped at the end of the session."""
    from .migrations.replay import replay

    before = pytestconfig.getoption(PREPOST_OPTION)
    if before is not None and not before.isdigit():
        raise pytest.UsageError(f"{PREPOST_OPTION} takes a migration version number, not {before!r}")
    stops = {"head": None, "after": None, "before": None if before is None else int(before)}

    class Templates(dict[str, str]):
        def __missing__(self, phase: str) -> str:
            name = self[phase] = schemashift_server.create_database()
            replay(schemashift_server.url(name), schemashift_settings.migrations, stops[phase],
                   history_table=schemashift_settings.history_table)
            return name

    templates = Templates()
    yield templates
    for name in templates.values():
        schemashift_server.drop_database(name)


@pytest.fixture
def schemashift_database(schemashift_phase: str, schemashift_server: Any,
                         _schemashift_templates: dict[str, str]) -> Iterator[str]:
    with schemashift_server.scratch_database(_schemashift_templates[schemashift_phase]) as url:
        yield url
