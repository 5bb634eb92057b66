"""Text sources on MariaDB are loaded once: the second read of the same `.sql` file is served from
the schema cache without a scratch database, an edited file is loaded again, and a server whose
settings differ is another entry."""

from __future__ import annotations

from pathlib import Path

import pytest

import schemashift
from schemashift.dialects.mysql.servers import ThrowawayServer


def databases_created(server: ThrowawayServer) -> int:
    with server.target.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Com_create_db'")
        return int(cur.fetchone()[1])


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SCHEMASHIFT_SCHEMA_CACHE", raising=False)
    return tmp_path / "cache"


def test_a_sql_file_is_loaded_once_per_content(mariadb: ThrowawayServer, cache: Path, tmp_path: Path) -> None:
    sql = tmp_path / "schema.sql"
    sql.write_text("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20));\n")
    dev_url = mariadb.target.url("")

    def columns() -> list[str]:
        schema = schemashift.inspect(str(sql), dialect="mysql", dev_url=dev_url)
        return sorted(c.name for c in schema.objects[("table", "db", "t")].columns)

    before = databases_created(mariadb)
    assert columns() == ["id", "name"]
    assert databases_created(mariadb) == before + 1
    assert columns() == ["id", "name"]
    assert databases_created(mariadb) == before + 1  # served from the cache
    sql.write_text("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), born INT);\n")
    assert columns() == ["born", "id", "name"]
    assert databases_created(mariadb) == before + 2


def test_the_cache_can_be_turned_off(mariadb: ThrowawayServer, cache: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMASHIFT_SCHEMA_CACHE", "0")
    sql = tmp_path / "schema.sql"
    sql.write_text("CREATE TABLE t (id INT PRIMARY KEY);\n")
    before = databases_created(mariadb)
    for _ in range(2):
        schemashift.inspect(str(sql), dialect="mysql", dev_url=mariadb.target.url(""))
    assert databases_created(mariadb) == before + 2
    assert not (cache / "schemashift" / "schemas").exists()
