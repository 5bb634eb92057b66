"""A live database compared with a file: the file loads on the database's own major version."""

from __future__ import annotations

from pathlib import Path

import pytest

import schemashift
from schemashift.dialects.postgres.servers import embedded_bin_dir

SCHEMA = "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL);\nCREATE VIEW v AS SELECT * FROM t;\n"


@pytest.fixture
def live_pg15(pg15, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[str, Path]:
    for name in ("SCHEMASHIFT_PG_BIN", "SCHEMASHIFT_DEV_URL"):
        monkeypatch.delenv(name, raising=False)
    file = tmp_path / "schema.sql"
    file.write_text(SCHEMA)
    name = pg15.load(SCHEMA)
    yield pg15.url(name), file
    pg15.drop(name)


def test_a_file_compared_with_a_postgresql_15_database_loads_on_15(live_pg15: tuple[str, Path]) -> None:
    url, file = live_pg15
    assert not schemashift.diff(url, str(file))
    assert not schemashift.diff(str(file), url)


def test_on_another_version_the_same_file_shows_version_only_differences(live_pg15: tuple[str, Path]) -> None:
    """Why the match matters: PostgreSQL 18 gives a table's owner MAINTAIN, which 15 has not."""
    url, file = live_pg15
    plan = schemashift.diff(url, str(file), pg_bin=str(embedded_bin_dir()))
    assert 'GRANT MAINTAIN ON TABLE "public"."t" TO "postgres"' in plan.sql


def test_a_migration_generated_from_a_postgresql_15_database_has_no_version_noise(
        live_pg15: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from schemashift.cli import cli

    monkeypatch.chdir(tmp_path)  # init writes schemashift.toml into the current directory
    url, _ = live_pg15
    folder = tmp_path / "migrations"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--migrations", str(folder)]).exit_code == 0
    made = runner.invoke(cli, ["new", "from production", "--migrations", str(folder), "--target", url])
    assert made.exit_code == 0, made.output
    text = (folder / "0001_from_production.sql").read_text()
    assert 'CREATE TABLE "public"."t"' in text and "GRANT" not in text
